#!/bin/sh
# A script as people write them: counts words in its arguments' files, with usage and errors.
usage() {
  echo "usage: wordcount FILE..." >&2
  exit 2
}
[ $# -gt 0 ] || usage
status=0
for file in "$@"; do
  if [ ! -f "$file" ]; then
    echo "wordcount: $file: no such file" >&2
    status=1
    continue
  fi
  n=0
  while read -r line; do
    for word in $line; do n=$((n + 1)); done
  done < "$file"
  printf '%6d %s\n' "$n" "$file"
done
exit $status
