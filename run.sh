#!/usr/bin/env bash
# Scorebook's one entry point.
#   ./run.sh [serve options]   build the jar if missing or stale, then serve on 127.0.0.1:8080 (data in ./data)
#   ./run.sh test              run the whole test suite (unit, integration, the real jar)
#   ./run.sh bench [NAME]      run the benchmarks (all, or those whose name contains NAME)
#   ./run.sh <command> ...     any other jar command: run, user, key, device, ...
# Paths on the command line (and the defaults ./data and ./evals) are relative to the folder it is called
# from, not to the repository. Build output goes to stderr: stdout carries only what the jar prints, so
# its first line is "Scorebook listening on ...".
# The JVM gets JAVA_OPTS and a heap of at most 512 MB (SCOREBOOK_HEAP=2g to change it; an -Xmx in JAVA_OPTS wins).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

JAR=$REPO/target/scorebook.jar
AOT=$REPO/target/scorebook.aot

java_major() { # prints the feature version of the java binary in $1, or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

find_jdk() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
    v=$(java_major "$JAVA_HOME/bin/java")
    if [ -n "$v" ] && [ "$v" -ge 21 ]; then echo "$JAVA_HOME"; return; fi
  fi
  best="" best_v=0
  for home in /usr/lib/jvm/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -x "$home/bin/javac" ] || continue
    v=$(java_major "$home/bin/java")
    if [ -n "$v" ] && [ "$v" -ge 21 ] && [ "$v" -gt "$best_v" ]; then best=$home best_v=$v; fi
  done
  if [ -n "$best" ]; then echo "$best"; return; fi
  echo "run.sh: Scorebook needs a JDK 21 or newer (25 recommended)." >&2
  echo "  Install one (Debian: apt-get install openjdk-21-jdk, or Temurin 25) or point JAVA_HOME at it." >&2
  exit 1
}

JAVA_HOME=$(find_jdk)
export JAVA_HOME
JAVA="$JAVA_HOME/bin/java"
# Maven: an installed mvn when it is 3.8 or newer, else the wrapper, which fetches a pinned Maven from Maven Central.
find_mvn() {
  if command -v mvn >/dev/null; then
    v=$(mvn -v 2>/dev/null | sed -n 's/.*Apache Maven \([0-9]*\)\.\([0-9]*\).*/\1 \2/p' | head -n 1)
    read -r major minor <<< "${v:-0 0}"
    if [ "$major" -gt 3 ] || { [ "$major" -eq 3 ] && [ "$minor" -ge 8 ]; }; then echo mvn; return; fi
  fi
  echo "$REPO/mvnw"
}
# Maven run in the repository; everything it prints goes to stderr, without colour codes
mvn_in_repo() { (cd "$REPO" && "$(find_mvn)" -B -Dstyle.color=never "$@") >&2; }

stale() { # the jar is missing or older than any source, schema, page or the pom
  [ -f "$JAR" ] || return 0
  [ -n "$(cd "$REPO" && find pom.xml src/main schema web -newer "$JAR" -type f 2>/dev/null | head -n 1)" ]
}

build() {
  echo "run.sh: building $JAR ..." >&2
  mvn_in_repo -q -DskipTests package
  rm -f "$AOT"
}

# JDK 25 can replay a recorded start-up (class loading and linking) from an AOT cache;
# it is made once per build by a short training run and halves the cold start.
aot_flags() {
  [ "$(java_major "$JAVA")" -ge 25 ] || return 0
  # a cache recorded from an older jar is of no use (mvn may have rebuilt the jar without run.sh)
  if [ -f "$AOT" ] && [ "$JAR" -nt "$AOT" ]; then rm -f "$AOT"; fi
  if [ ! -f "$AOT" ]; then
    "$JAVA" -XX:AOTCacheOutput="$AOT" -Xlog:disable -Xlog:all=warning,aot*=error:stderr -jar "$JAR" train >/dev/null 2>&1 || rm -f "$AOT"
  fi
  [ -f "$AOT" ] && echo "-XX:AOTCache=$AOT -Xlog:disable -Xlog:all=warning,aot*=error:stderr"
  return 0
}

# The JVM's options: JAVA_OPTS as given, plus a default heap (-Xmx512m, or SCOREBOOK_HEAP, e.g. 2g) unless JAVA_OPTS
# sets one, so that an idle server does not grow towards a quarter of the machine's memory.
jvm_opts() {
  local opts=${JAVA_OPTS:-}
  case " $opts " in
    *" -Xmx"*|*" -XX:MaxHeapSize"*|*" -XX:MaxRAMPercentage"*) ;;
    *) opts="$opts -Xmx${SCOREBOOK_HEAP:-512m}" ;;
  esac
  echo "$opts"
}

cmd=${1:-serve}
case "$cmd" in
  test)
    shift
    # verify = unit and in-process integration tests, then package, then the tests that run the real jar.
    # Not quiet: the per-class "Tests run:" lines are the record of what ran.
    cd "$REPO"
    exec "$(find_mvn)" -B --no-transfer-progress verify "$@"
    ;;
  bench)
    shift
    stale && build
    mvn_in_repo -q test-compile dependency:build-classpath -Dmdep.outputFile=target/test-classpath.txt -Dmdep.includeScope=test
    cd "$REPO"
    cp="target/test-classes:target/classes:$(cat target/test-classpath.txt)"
    read -r -a aot <<< "$(aot_flags)"
    exec "$JAVA" --enable-native-access=ALL-UNNAMED -cp "$cp" \
      -Dscorebook.jar="$JAR" -Dscorebook.java="$JAVA" -Dscorebook.aot="${aot[*]:-}" \
      scorebook.bench.Bench "$@"
    ;;
  *)
    stale && build
    read -r -a aot <<< "$(aot_flags)"
    # no command, or options only: serve (but --help alone is the general usage)
    if [ "$#" -eq 0 ] || { [[ "$1" == -* ]] && [ "$1" != --help ] && [ "$1" != -h ]; }; then set -- serve "$@"; fi
    read -r -a jvm <<< "$(jvm_opts)"
    exec "$JAVA" ${jvm[@]+"${jvm[@]}"} ${aot[@]+"${aot[@]}"} -jar "$JAR" "$@"
    ;;
esac
