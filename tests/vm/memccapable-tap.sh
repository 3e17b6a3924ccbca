#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# memccapable-tap.sh - run memccapable (libmemcached-tools) in the VM and
# print its results as TAP, one test per "[pass]" or failed line, for
# tests/vm/init.sh's suite(). Arguments go to memccapable; the exit status
# is memccapable's. Each test is named after the run: "memccapable -a:
# ascii get", "memccapable -b: binary getq" (-a text protocol, -b binary).
#
# The guest has no ld.so.cache: the libraries tests/vm/run.sh copied in
# are found through LD_LIBRARY_PATH.

LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
export LD_LIBRARY_PATH

run=memccapable
for a in "$@"; do
	case $a in
	-a | -b) run="$run $a" ;;
	esac
done

/usr/bin/memccapable "$@" >/tmp/memccapable.out 2>&1
rc=$?
awk -v run="$run" '
/\[pass\]$/ {
	n++
	sub(/[ \t]+\[pass\]$/, "")
	print "ok " n " - " run ": " $0
	next
}
/^(ascii|binary) .*\[[A-Za-z]+\]$/ {
	n++
	print "not ok " n " - " run ": " $0
	next
}
{ print "# " $0 }
END { print "1.." n }
' /tmp/memccapable.out
exit $rc
