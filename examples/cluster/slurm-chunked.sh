#!/usr/bin/env bash
# One long transcode spread over a Slurm job array: each array task encodes one slice of the
# chunks of a chunked job (`[execution] chunked = { seconds = 20 }`) into the output's
# `OUTPUT.chunks/` folder on shared storage; a last step joins them.
#   sbatch --array=0-7 examples/cluster/slurm-chunked.sh jobs/movie.toml
#   sbatch --dependency=afterok:<array id> --wrap "rdbench transcode jobs/movie.toml --join"
# A task that fails can be submitted again alone: finished chunks are kept and not encoded again.
#SBATCH --job-name=rdbench-chunks
#SBATCH --cpus-per-task=2
#SBATCH --time=04:00:00
set -euo pipefail
JOB=${1:?job file}
K=$((SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN + 1))
rdbench transcode "$JOB" --chunks "$K/$SLURM_ARRAY_TASK_COUNT"
