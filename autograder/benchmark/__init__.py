"""What the kit's speed and memory are on this machine: figures for the README, printed by
``autograder benchmark``, never asserted by timed tests (shared machines are noisy)."""
