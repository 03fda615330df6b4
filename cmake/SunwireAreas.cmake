# The library's areas: every directory src/<area>/ except src/cli (the programs)
# is one static library, sw_<area>, built from the .c files it holds.
#
# The tables below are the one place that says what an area calls: the other
# areas (SW_AREA_DEPS_<area>) and the third-party libraries (SW_AREA_LIBS_<area>,
# by their SunwireDeps.cmake name; an optional one that was not found is left
# out). They become ordinary target_link_libraries dependencies, so anything
# that links sw_<area> (a program, a unit test) gets the areas and libraries
# it needs transitively, and nothing else. A new area directory builds without
# an edit here: with no row it depends on core only. Cycles are allowed between
# static libraries (CMake repeats them on the link line) but should not be added.
set(SW_AREA_DEPS_core   "")
set(SW_AREA_DEPS_tigo   core)
set(SW_AREA_DEPS_rct    core)
set(SW_AREA_DEPS_io     core)
set(SW_AREA_DEPS_sim    core tigo)
set(SW_AREA_DEPS_rct_io core io rct sim)
set(SW_AREA_DEPS_model  core)
set(SW_AREA_DEPS_daemon core io rct rct_io tigo model sink web)
set(SW_AREA_DEPS_sink   core io model web)
set(SW_AREA_DEPS_web    core io model sink)

set(SW_AREA_LIBS_core   m)
set(SW_AREA_LIBS_tigo   JANSSON)
set(SW_AREA_LIBS_rct_io PCAP)
set(SW_AREA_LIBS_daemon INIH JANSSON SQLITE)
set(SW_AREA_LIBS_sink   MOSQUITTO CURL SQLITE)
set(SW_AREA_LIBS_web    MHD)

file(GLOB _area_srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/*/*.c)
set(SUNWIRE_AREAS "")
foreach(src IN LISTS _area_srcs)
  get_filename_component(_dir ${src} DIRECTORY)
  get_filename_component(_area ${_dir} NAME)
  if(NOT _area STREQUAL "cli")
    list(APPEND SUNWIRE_AREAS ${_area})
  endif()
endforeach()
list(REMOVE_DUPLICATES SUNWIRE_AREAS)
list(SORT SUNWIRE_AREAS)

set(SUNWIRE_AREA_TARGETS "")
foreach(area IN LISTS SUNWIRE_AREAS)
  file(GLOB _srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/${area}/*.c)
  add_library(sw_${area} STATIC ${_srcs})
  # include/ holds the installed API; the program's own headers live beside their
  # code (src/<area>/*.h) and are seen by whatever links the area, never installed.
  target_include_directories(sw_${area}
    PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include ${CMAKE_CURRENT_SOURCE_DIR}/src
    PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/generated)
  # libsunwire.so exports only what a public header marks SW_API (sunwire/api.h).
  set_target_properties(sw_${area} PROPERTIES C_VISIBILITY_PRESET hidden)
  sunwire_warnings(sw_${area})
  list(APPEND SUNWIRE_AREA_TARGETS sw_${area})
endforeach()

# Dependencies are added once every area exists, so a row may name an area that
# comes later in the list; a row naming an area that has no directory is skipped.
foreach(area IN LISTS SUNWIRE_AREAS)
  if(DEFINED SW_AREA_DEPS_${area})
    set(_deps ${SW_AREA_DEPS_${area}})
  else()
    set(_deps core)
  endif()
  foreach(dep IN LISTS _deps)
    if(TARGET sw_${dep} AND NOT dep STREQUAL area)
      target_link_libraries(sw_${area} PUBLIC sw_${dep})
    endif()
  endforeach()
  foreach(lib IN LISTS SW_AREA_LIBS_${area})
    if(lib STREQUAL "m")
      target_link_libraries(sw_${area} PUBLIC m)
    elseif(TARGET PkgConfig::${lib})
      target_link_libraries(sw_${area} PUBLIC PkgConfig::${lib})
    endif()
  endforeach()
endforeach()
