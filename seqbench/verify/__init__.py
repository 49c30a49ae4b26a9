"""`seqbench verify`: are the committed numbers what the committed runs say, and does this machine
get the same? `audit` checks a results directory without training; `rerun` trains a sample of its
runs again and compares; `submission` checks a leaderboard entry from someone else."""
