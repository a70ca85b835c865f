#!/usr/bin/env bash
# A Slurm job array running one rdbench suite as 8 shards, then merging them.
#   sbatch --array=0-7 examples/cluster/slurm-array.sh suites/nightly.toml
# rdbench reads SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT / SLURM_ARRAY_TASK_MIN itself.
#SBATCH --job-name=rdbench
#SBATCH --cpus-per-task=2
#SBATCH --time=04:00:00
set -euo pipefail
SUITE=${1:?suite file}
RUNS=${RUNS:-/shared/rdbench/runs}
rdbench bench --suite "$SUITE" --runs-dir "$RUNS" --run-id "nightly-$SLURM_ARRAY_JOB_ID"

# After the array finishes (e.g. sbatch --dependency=afterok:$SLURM_ARRAY_JOB_ID merge.sh):
#   rdbench merge "$RUNS"/nightly-<array id>-shard*of8 --out "$RUNS"/nightly-<array id>
