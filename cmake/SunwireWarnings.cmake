# Compiler flags shared by every sunwire target.
function(sunwire_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Wstrict-prototypes
    -Wmissing-prototypes -Wformat=2 -Wvla)
  if(SUNWIRE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# Hardening (all builds): fortify needs optimisation, so only where it is on.
add_compile_options(-fstack-protector-strong)
# Position-independent code for the shared library would otherwise let any of
# its global functions be replaced at load time, which stops the compiler from
# inlining one into another inside a file (the decoders call each other on
# every frame). sunwire does not support replacing its functions that way.
add_compile_options(-fno-semantic-interposition)
if(NOT CMAKE_BUILD_TYPE STREQUAL "Debug" AND NOT SUNWIRE_SANITIZE)
  add_compile_definitions(_FORTIFY_SOURCE=2)
endif()
add_link_options(-Wl,-z,relro -Wl,-z,now)
# Relative relocations in the compact DT_RELR form where the linker and C
# library support it (binutils 2.38, glibc 2.36): the tables of pointers
# (the RCT registry, command tables) otherwise need one 24-byte record each,
# which the loader reads at every start and which count as the program's
# private memory.
include(CheckLinkerFlag)
check_linker_flag(C "-Wl,-z,pack-relative-relocs" SUNWIRE_HAVE_RELR)
if(SUNWIRE_HAVE_RELR)
  add_link_options(-Wl,-z,pack-relative-relocs)
endif()
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
include(CheckPIESupported)
check_pie_supported()

if(SUNWIRE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
    -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
