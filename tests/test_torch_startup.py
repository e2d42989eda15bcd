"""The worker keeps torch's compiler out while nothing compiles, and what it puts in its place
behaves as the compiler would: torch's own optimizers step as before, and anything else that
asks for the compiler gets the real one."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import sys, torch
    from autograder.runtime.torch_startup import defer_compiler_import, skip_compiler_import

    def stepped(kind):
        p = torch.tensor([1.0, -2.0], requires_grad=True)
        optimizer = kind([p], lr=0.1)
        for _ in range(3):
            optimizer.zero_grad()
            (p ** 2).sum().backward()
            optimizer.step()
        return p.detach().tolist()

    kinds = [torch.optim.Adam, torch.optim.SGD, torch.optim.Adagrad, torch.optim.RMSprop]
    if sys.argv[1] == "deferred":
        assert skip_compiler_import() and defer_compiler_import()
    print([stepped(kind) for kind in kinds])
    print(getattr(sys.modules.get("torch._dynamo"), "_stand_in", False))
    compiled = torch.compile(lambda x: x * 2, backend="eager")
    print(compiled(torch.ones(2)).tolist(), getattr(sys.modules["torch._dynamo"], "_stand_in", False))
""")


def run(mode: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_torch_optimizers_step_the_same_without_the_compiler_and_compile_gets_the_real_one():
    steps, stand_in, compiled = run("deferred")
    assert stand_in == "True"  # four optimizers stepped, and the compiler was never imported
    assert compiled == "[2.0, 2.0] False"  # torch.compile brought the real compiler in
    assert steps == run("plain")[0]
