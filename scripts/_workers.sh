# Sourced by the test scripts: the pytest-xdist options that spread the suite over the cores.
# Every test runs torch on one thread (tests/conftest.py), so one worker per usable core; at most
# 4, as each holds about 1.5 GB. Files stay whole on one worker (--dist loadfile): a module's
# fitted fixtures are fitted once. SYNTHGAN_TEST_WORKERS=0 runs in this process alone.
TEST_WORKERS=${SYNTHGAN_TEST_WORKERS:-$(n=$(nproc 2>/dev/null || echo 1); echo $((n < 4 ? n : 4)))}
XDIST=(-n "$TEST_WORKERS" --dist loadfile)
