#!/bin/sh
# fuzz-research.sh: N research runs on the digits task against a fake model
# that answers random but schema-valid JSON (../shared/tools/fakellm.py
# --mode schema --seed i), then a table: seed, exit code, the phase reached,
# whether a report was written, and the failure the report names.
#
#   scripts/fuzz-research.sh [N] [FIRST_SEED]     (make fuzz-research N=50)
#
# Environment: MLRC (default bin/mlrc), FAKELLM (default
# ../shared/tools/fakellm.py), MAX_STEPS (default 3), OUT (default
# /tmp/mlrc-fuzz), FAKELLM_ARGS (extra options, e.g. chaos faults:
# "--fail-rate 0.1 --fail-kinds 429,500,malformed").
set -u
N=${1:-50}
FIRST=${2:-1}
MLRC=${MLRC:-bin/mlrc}
FAKELLM=${FAKELLM:-../shared/tools/fakellm.py}
MAX_STEPS=${MAX_STEPS:-3}
OUT=${OUT:-/tmp/mlrc-fuzz}
PYTHON=${FAKELLM_PYTHON:-python3}

if [ ! -f "$FAKELLM" ]; then
	echo "fuzz-research: skipped: $FAKELLM is absent (set FAKELLM=path/to/fakellm.py)"
	exit 0
fi
if [ ! -x "$MLRC" ]; then
	echo "fuzz-research: $MLRC is not built: run make build" >&2
	exit 2
fi
rm -rf "$OUT"
mkdir -p "$OUT"
# A literature index from the corpus sample, when there is one: the ideas
# then cite retrieved works (an enum in the schema the model sees).
CORPUS=${CORPUS:-$(dirname "$FAKELLM")/../corpus/arxiv-ml-abstracts-2k.jsonl}
index_flag=""
if [ -f "$CORPUS" ]; then
	if "$MLRC" lit index --runs-dir "$OUT" "$CORPUS" >"$OUT/index.log" 2>&1; then
		index_flag="--index $OUT/literature.db"
	else
		echo "fuzz-research: building the literature index failed (see $OUT/index.log); going on without" >&2
	fi
fi
crashes=0
noreport=0
unnamed=0
printf '%-5s %-5s %-11s %-7s %s\n' seed exit phase report failure >"$OUT/table.txt"
seed=$FIRST
last=$((FIRST + N - 1))
while [ "$seed" -le "$last" ]; do
	dir="$OUT/seed-$seed"
	mkdir -p "$dir"
	# shellcheck disable=SC2086
	$PYTHON "$FAKELLM" --mode schema --seed "$seed" --port-file "$dir/port" --quiet --no-auth ${FAKELLM_ARGS:-} >"$dir/fakellm.log" 2>&1 &
	fpid=$!
	i=0
	while [ ! -s "$dir/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	port=$(cat "$dir/port" 2>/dev/null)
	OPENAI_BASE_URL="http://127.0.0.1:$port/v1" OPENAI_API_KEY=fake MLRC_MODEL=openai/x HF_HUB_OFFLINE=1 \
		timeout 900 "$MLRC" research --runs-dir "$dir/runs" --paper examples/papers/fashion-mnist.md \
		--task examples/tasks/digits --auto --offline --max-steps "$MAX_STEPS" $index_flag >"$dir/stdout" 2>"$dir/stderr"
	code=$?
	kill "$fpid" 2>/dev/null
	wait "$fpid" 2>/dev/null
	report=$(ls "$dir"/runs/*/report.md 2>/dev/null | head -n 1)
	phase=$(grep -o '== phase [0-9]/4: [a-z]*' "$dir/stdout" | tail -n 1 | sed 's/.*: //')
	failure=-
	written=no
	if [ -n "$report" ]; then
		written=yes
		failure=$(sed -n 's/^- \*\*Why:\*\* //p' "$report" | head -n 1 | cut -c1-90)
		if [ "$code" -ne 0 ] && [ -z "$failure" ]; then
			failure="(not named)"
			unnamed=$((unnamed + 1))
		fi
		[ -z "$failure" ] && failure=-
	else
		noreport=$((noreport + 1))
	fi
	# A crash: a Go panic, a signal, or the timeout.
	if grep -q '^panic:\|^fatal error:' "$dir/stderr" || [ "$code" -gt 2 ]; then
		crashes=$((crashes + 1))
		failure="CRASH: $(grep -m1 '^panic:\|^fatal error:' "$dir/stderr" || echo "exit $code")"
	fi
	printf '%-5s %-5s %-11s %-7s %s\n' "$seed" "$code" "${phase:-none}" "$written" "$failure" >>"$OUT/table.txt"
	seed=$((seed + 1))
done
cat "$OUT/table.txt"
echo
echo "runs $N · crashes $crashes · without a report $noreport · failures not named $unnamed · logs in $OUT"
[ "$crashes" -eq 0 ] && [ "$noreport" -eq 0 ] && [ "$unnamed" -eq 0 ]
