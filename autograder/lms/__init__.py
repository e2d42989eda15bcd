"""Learning-management systems: their "download all submissions" zips in (Moodle, Canvas), their
gradebook import CSVs out."""
