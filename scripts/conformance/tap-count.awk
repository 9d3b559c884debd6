# Counts one TAP stream (the output of one runtime-tools validation program).
# Prints one line: "<passed> <failed> <skipped> <todo> <planned> <seen> <bailed>".
# Rules: "ok" is passed unless its directive is SKIP (skipped); "not ok" is failed unless its
# directive is TODO (todo). A plan "1..N" sets planned (last plan wins); "1..0" is a skipped suite.
# Assertions the plan promised but the program never printed are counted by the caller.
BEGIN { pass = 0; fail = 0; skip = 0; todo = 0; planned = -1; seen = 0; bailed = 0 }
/^Bail out!/ { bailed = 1; next }
/^[0-9]+\.\.[0-9]+/ { split($0, p, /\.\./); planned = p[2] + 0; next }
/^not ok/ {
  seen++
  if (toupper($0) ~ /#[ \t]*TODO/) todo++; else fail++
  next
}
/^ok/ {
  seen++
  if (toupper($0) ~ /#[ \t]*SKIP/) skip++; else pass++
  next
}
END { print pass, fail, skip, todo, planned, seen, bailed }
