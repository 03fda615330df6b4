# Optional and required third-party libraries.
#
# Every optional dependency is looked up with pkg-config. A missing one never
# breaks the build: the feature is compiled out, SUNWIRE_HAVE_<NAME> stays 0 in
# the generated config header, and the summary at the end of the configure step
# (and `sunwire features`) says it is disabled and which Debian package enables it.
find_package(PkgConfig REQUIRED)

set(SUNWIRE_LINK_LIBS m ${CMAKE_DL_LIBS})
set(SUNWIRE_PC_LIBS_PRIVATE "-lm -ldl")
set(SUNWIRE_FEATURES "")

# name, pkg-config module, Debian package, what it enables
set(SUNWIRE_DL_LINK_LIBS "")
macro(sunwire_optional_dl NAME MODULE DEBPKG WHAT)
  pkg_check_modules(${NAME} IMPORTED_TARGET ${MODULE})
  if(${NAME}_FOUND)
    set(SUNWIRE_HAVE_${NAME} 1)
    add_library(sw_headers_${NAME} INTERFACE)
    target_include_directories(sw_headers_${NAME} INTERFACE ${${NAME}_INCLUDE_DIRS})
    list(APPEND SUNWIRE_LINK_LIBS sw_headers_${NAME})
    list(APPEND SUNWIRE_DL_LINK_LIBS PkgConfig::${NAME})
    list(APPEND SUNWIRE_FEATURES "${WHAT}: enabled (${MODULE} ${${NAME}_VERSION}, loaded when used)")
  else()
    set(SUNWIRE_HAVE_${NAME} 0)
    list(APPEND SUNWIRE_FEATURES "${WHAT}: DISABLED (install ${DEBPKG})")
  endif()
endmacro()

macro(sunwire_optional NAME MODULE DEBPKG WHAT)
  pkg_check_modules(${NAME} IMPORTED_TARGET ${MODULE})
  if(${NAME}_FOUND)
    set(SUNWIRE_HAVE_${NAME} 1)
    list(APPEND SUNWIRE_LINK_LIBS PkgConfig::${NAME})
    string(JOIN " " _ldflags ${${NAME}_LDFLAGS})
    string(APPEND SUNWIRE_PC_LIBS_PRIVATE " ${_ldflags}")
    list(APPEND SUNWIRE_FEATURES "${WHAT}: enabled (${MODULE} ${${NAME}_VERSION})")
  else()
    set(SUNWIRE_HAVE_${NAME} 0)
    list(APPEND SUNWIRE_FEATURES "${WHAT}: DISABLED (install ${DEBPKG})")
  endif()
endmacro()

# Loaded at first use (src/io/dl.h): only their headers are needed to build,
# and the program does not map them, or their dependency chains, unless the
# feature runs. Tests that call them directly link SUNWIRE_DL_LINK_LIBS.
sunwire_optional_dl(PCAP      libpcap      libpcap-dev        "pcap capture reading")
sunwire_optional_dl(MOSQUITTO libmosquitto libmosquitto-dev   "MQTT and Home Assistant output")
sunwire_optional_dl(MHD       libmicrohttpd libmicrohttpd-dev "HTTP server (Prometheus /metrics, dashboard)")
sunwire_optional_dl(CURL      libcurl      libcurl4-openssl-dev "InfluxDB HTTP output")
sunwire_optional_dl(SQLITE    sqlite3      libsqlite3-dev     "embedded SQLite history")
# Linked: small, and needed by the daemon whenever it runs.
sunwire_optional(INIH      inih         libinih-dev        "configuration files (sunwire run --config)")
# Required: jansson parses JSON input (state files, configuration, test vectors).
pkg_check_modules(JANSSON IMPORTED_TARGET jansson)
if(NOT JANSSON_FOUND)
  message(FATAL_ERROR "jansson not found: install the Debian package libjansson-dev "
    "(scripts/deps.sh does this for you)")
endif()
list(APPEND SUNWIRE_LINK_LIBS PkgConfig::JANSSON)
string(JOIN " " _ldflags ${JANSSON_LDFLAGS})
string(APPEND SUNWIRE_PC_LIBS_PRIVATE " ${_ldflags}")

set(SUNWIRE_VERSION "${PROJECT_VERSION}")
string(REPLACE ";" "\\n" SUNWIRE_FEATURES_TEXT "${SUNWIRE_FEATURES}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/sunwire_config.h.in
  ${CMAKE_CURRENT_BINARY_DIR}/generated/sunwire_config.h)

function(sunwire_feature_summary)
  message(STATUS "sunwire features:")
  foreach(f IN LISTS SUNWIRE_FEATURES)
    message(STATUS "  ${f}")
  endforeach()
endfunction()
