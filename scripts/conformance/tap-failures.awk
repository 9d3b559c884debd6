# Prints the failing assertions of one TAP stream, each as "<test>: not ok N - description",
# followed (when -v full=1) by its indented diagnostics: runtime-tools prints a YAML block
# ("  ---" ... "  ...") or "# " lines after a failing assertion, naming the spec reference.
# usage: awk -v test=NAME [-v full=1] -f tap-failures.awk FILE
/^not ok/ {
  infail = (toupper($0) !~ /#[ \t]*TODO/)
  if (infail) print test ": " $0
  next
}
/^(ok|[0-9]+\.\.[0-9]+)/ { infail = 0; next }
infail && full && /^([ \t]|#)/ { print "    " $0 }
