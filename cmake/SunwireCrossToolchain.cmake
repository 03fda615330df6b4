# The part of the ARM toolchain files they share: included after a toolchain
# file has set CMAKE_SYSTEM_PROCESSOR, SUNWIRE_CROSS_TRIPLET and SUNWIRE_CROSS_QEMU.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${SUNWIRE_CROSS_TRIPLET}-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE ${SUNWIRE_CROSS_TRIPLET})

# Every target library is found through pkg-config (below); programs
# (cmake, python) come from the build machine.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)

# pkg-config must see the target's .pc files and never the build machine's
# (an x86 library would be found, and the link would fail or pick the wrong one).
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${SUNWIRE_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# ctest runs each test program through the user-mode emulator. The target's
# C library comes with the multiarch packages (libc6:<arch>, pulled in by the
# -dev packages), so the program's own loader path /lib/ld-linux-*.so.* already
# leads to a matching ld.so and libc. Only without them is the cross sysroot
# /usr/${SUNWIRE_CROSS_TRIPLET} used (-L): mixing its loader with multiarch libraries
# makes name lookups (NSS modules) hang.
find_program(SUNWIRE_QEMU NAMES ${SUNWIRE_CROSS_QEMU} ${SUNWIRE_CROSS_QEMU}-static)
if(SUNWIRE_QEMU)
  if(EXISTS /lib/${SUNWIRE_CROSS_TRIPLET}/libc.so.6)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${SUNWIRE_QEMU})
  else()
    set(CMAKE_CROSSCOMPILING_EMULATOR ${SUNWIRE_QEMU} -L /usr/${SUNWIRE_CROSS_TRIPLET})
  endif()
endif()
