# read, pipes into loops, redirections, eval, sh -c.
file=input.txt
printf 'alpha 1\nbeta 2\ngamma 3\n' > $file
while read word number; do
  echo "$number: $word"
done < $file
total=0
while read word number; do total=$((total + number)); done < $file
echo "total in the loop's shell: $total"
grep -c a $file
sort -r $file | head -n 2
cat $file | while read line; do echo "piped: $line"; done
echo "one two" | { read a b; echo "b=$b a=$a"; }
cmd='echo evaluated $((1+1))'
eval "$cmd"
sh -c 'echo "sh -c: $0 $1"' name arg
{ echo grouped; echo output; } | wc -l
echo to-stderr >&2
echo "kept" > $file.out; echo "added" >> $file.out; cat $file.out
rm -f $file $file.out
printf 'last\nno-newline' | while read line; do echo "got: $line"; done
printf 'partial' | { read p; echo "status $? p=$p"; }
printf 'a\\\nb' | { read q; echo "status $? q=$q"; }
