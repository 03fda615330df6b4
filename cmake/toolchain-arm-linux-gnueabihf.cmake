# Cross build for 32-bit ARM hard-float (armhf): Raspberry Pi Zero 2, Pi 2/3 and older boards on a 32-bit OS,
# with Debian's arm-linux-gnueabihf-gcc. Libraries come from Debian's multiarch packages
# (apt-get install libfoo-dev:<arch>), which install under /usr/lib/arm-linux-gnueabihf.
# Tests run through qemu-arm (Debian package qemu-user or qemu-user-static):
# scripts/cross-test.sh does all of it.
set(CMAKE_SYSTEM_PROCESSOR arm)
set(SUNWIRE_CROSS_TRIPLET arm-linux-gnueabihf)
set(SUNWIRE_CROSS_QEMU qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/SunwireCrossToolchain.cmake)
