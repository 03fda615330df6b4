# Cross build for 64-bit ARM (arm64): Raspberry Pi 3/4/5 and other boards running a 64-bit OS,
# with Debian's aarch64-linux-gnu-gcc. Libraries come from Debian's multiarch packages
# (apt-get install libfoo-dev:<arch>), which install under /usr/lib/aarch64-linux-gnu.
# Tests run through qemu-aarch64 (Debian package qemu-user or qemu-user-static):
# scripts/cross-test.sh does all of it.
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(SUNWIRE_CROSS_TRIPLET aarch64-linux-gnu)
set(SUNWIRE_CROSS_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/SunwireCrossToolchain.cmake)
