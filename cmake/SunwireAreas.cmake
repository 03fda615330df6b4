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
set(SW_AREA_DEPS_io     core loop log)
set(SW_AREA_DEPS_sim    core tigo)
set(SW_AREA_DEPS_rct_io core io rct sim)
set(SW_AREA_DEPS_model  core)
set(SW_AREA_DEPS_health core tigo rct model)
set(SW_AREA_DEPS_daemon core io rct rct_io tigo model health sink web)
set(SW_AREA_DEPS_web    core io model sink_prometheus sink_history)
set(SW_AREA_DEPS_loop   core)
set(SW_AREA_DEPS_log    core)
# Each sink needs the model, the loop it runs on and the log, never another
# sink, the web server, the daemon or the rest of io.
set(SW_AREA_DEPS_sink_mqtt       core model loop log)
set(SW_AREA_DEPS_sink_prometheus core model log)
set(SW_AREA_DEPS_sink_influx     core model loop log)
set(SW_AREA_DEPS_sink_history    core model loop log)

set(SW_AREA_LIBS_core   m)
set(SW_AREA_LIBS_tigo   JANSSON)
set(SW_AREA_LIBS_rct_io PCAP)
set(SW_AREA_LIBS_daemon INIH JANSSON SQLITE)
set(SW_AREA_LIBS_sink_mqtt    MOSQUITTO)
set(SW_AREA_LIBS_sink_influx  CURL)
set(SW_AREA_LIBS_sink_history SQLITE)
set(SW_AREA_LIBS_web    MHD)

# Libraries carved out of an area, file by file: sw_<part> is built from the
# files listed (relative to src/), and the area's own library from the rest.
# The area links its parts, so whatever names the area still gets them all; an
# area left without files of its own (sink) is just the set of its parts.
# - loop and log: the event loop and the log are what every edge and every
#   sink runs on; apart from the rest of io, a sink links them and no socket,
#   serial or file code.
# - sink_<name>: one library per output, so a sink's unit test links the model
#   and that sink only (tests/integration/test_sink_links.py checks it).
set(SUNWIRE_PARTS_io loop log)
set(SW_PART_loop io/loop.c)
set(SW_PART_log  io/log.c)
set(SUNWIRE_PARTS_sink sink_mqtt sink_prometheus sink_influx sink_history)
set(SW_PART_sink_mqtt       sink/mqtt.c sink/mqtt_config.c sink/mqtt_queue.c sink/mqtt_state.c
                            sink/homeassistant.c sink/ha_inverter.c sink/ha_inverter_table.c)
set(SW_PART_sink_prometheus sink/prometheus.c)
set(SW_PART_sink_influx     sink/influx.c)
set(SW_PART_sink_history    sink/history.c sink/history_query.c sink/history_import.c)

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

function(sunwire_area_library name)
  add_library(sw_${name} STATIC ${ARGN})
  # include/ holds the installed API; the program's own headers live beside their
  # code (src/<area>/*.h) and are seen by whatever links the area, never installed.
  target_include_directories(sw_${name}
    PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include ${CMAKE_CURRENT_SOURCE_DIR}/src
    PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/generated)
  # libsunwire.so exports only what a public header marks SW_API (sunwire/api.h).
  set_target_properties(sw_${name} PROPERTIES C_VISIBILITY_PRESET hidden)
  sunwire_warnings(sw_${name})
endfunction()

set(SUNWIRE_AREA_TARGETS "")   # every static library, in the order built
set(SUNWIRE_LINK_UNITS "")     # areas and parts, for the dependency rows
foreach(area IN LISTS SUNWIRE_AREAS)
  file(GLOB _srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/${area}/*.c)
  foreach(part IN LISTS SUNWIRE_PARTS_${area})
    set(_part_srcs "")
    foreach(f IN LISTS SW_PART_${part})
      list(APPEND _part_srcs ${CMAKE_CURRENT_SOURCE_DIR}/src/${f})
    endforeach()
    list(REMOVE_ITEM _srcs ${_part_srcs})
    sunwire_area_library(${part} ${_part_srcs})
    list(APPEND SUNWIRE_AREA_TARGETS sw_${part})
    list(APPEND SUNWIRE_LINK_UNITS ${part})
  endforeach()
  if(_srcs)
    sunwire_area_library(${area} ${_srcs})
    list(APPEND SUNWIRE_AREA_TARGETS sw_${area})
  else()
    add_library(sw_${area} INTERFACE)
  endif()
  list(APPEND SUNWIRE_LINK_UNITS ${area})
  foreach(part IN LISTS SUNWIRE_PARTS_${area})
    if(_srcs)
      target_link_libraries(sw_${area} PUBLIC sw_${part})
    else()
      target_link_libraries(sw_${area} INTERFACE sw_${part})
    endif()
  endforeach()
endforeach()

# Dependencies are added once every area exists, so a row may name an area that
# comes later in the list; a row naming an area that has no directory is skipped.
foreach(area IN LISTS SUNWIRE_LINK_UNITS)
  get_target_property(_type sw_${area} TYPE)
  if(_type STREQUAL "INTERFACE_LIBRARY")
    continue()
  endif()
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
