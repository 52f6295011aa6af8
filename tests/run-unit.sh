#!/bin/sh
# Unit tests (built with AddressSanitizer and UndefinedBehaviorSanitizer).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
exec "$(dirname "$0")/run-suite.sh" unit "$@"
