# Sourced by ./tern and ./run-tests: sets JAVA_HOME to a JDK >= 25.
# Order: $JAVA_HOME if it is new enough, then the newest JDK under /usr/lib/jvm.
_tern_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}
_tern_pick_jdk() {
  local cand v
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    v=$(_tern_java_major "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then return 0; fi
  fi
  for cand in $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -V -r); do
    cand=${cand%/}
    [ -x "$cand/bin/javac" ] || continue
    v=$(_tern_java_major "$cand")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then export JAVA_HOME="$cand"; return 0; fi
  done
  echo "tern: no JDK 25 or newer found (looked at \$JAVA_HOME and /usr/lib/jvm); install one, e.g. Temurin 25, and set JAVA_HOME" >&2
  return 1
}
_tern_pick_jdk || exit 1
export PATH="$JAVA_HOME/bin:$PATH"
