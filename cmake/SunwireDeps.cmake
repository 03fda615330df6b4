# Optional and required third-party libraries.
#
# Every optional dependency is looked up with pkg-config. A missing one never
# breaks the build: the feature is compiled out, SUNWIRE_HAVE_<NAME> stays 0 in
# the generated config header, and the summary at the end of the configure step
# (and `sunwire features`) says it is disabled and which Debian package enables it.
find_package(PkgConfig REQUIRED)

set(SUNWIRE_LINK_LIBS m)
# sunwire.pc names the libraries themselves in Libs.private rather than their
# modules in Requires.private: linking libsunwire.a into a program that uses the
# system's shared libraries needs only these, while Requires.private would ask
# for the static dependency chains of libcurl & co., which no -dev package brings.
set(SUNWIRE_PC_LIBS_PRIVATE "-lm")
macro(sunwire_pc_private NAME)
  foreach(_l IN LISTS ${NAME}_LIBRARIES)
    string(APPEND SUNWIRE_PC_LIBS_PRIVATE " -l${_l}")
  endforeach()
endmacro()
set(SUNWIRE_FEATURES "")

# name, pkg-config module, Debian package that provides it, what it enables.
# A found library is linked like any other (so `ldd` and dpkg-shlibdeps see it);
# its imported target is PkgConfig::<NAME>, which the areas that call it link.
macro(sunwire_optional NAME MODULE DEBPKG WHAT)
  pkg_check_modules(${NAME} IMPORTED_TARGET ${MODULE})
  if(${NAME}_FOUND)
    set(SUNWIRE_HAVE_${NAME} 1)
    list(APPEND SUNWIRE_LINK_LIBS PkgConfig::${NAME})
    sunwire_pc_private(${NAME})
    list(APPEND SUNWIRE_FEATURES "${WHAT}: enabled (${MODULE} ${${NAME}_VERSION})")
  else()
    set(SUNWIRE_HAVE_${NAME} 0)
    list(APPEND SUNWIRE_FEATURES "${WHAT}: DISABLED (install ${DEBPKG})")
  endif()
endmacro()

sunwire_optional(PCAP      libpcap       libpcap-dev          "pcap capture reading")
sunwire_optional(MOSQUITTO libmosquitto  libmosquitto-dev     "MQTT and Home Assistant output")
sunwire_optional(MHD       libmicrohttpd libmicrohttpd-dev    "HTTP server (Prometheus /metrics, dashboard)")
sunwire_optional(CURL      libcurl       libcurl4-openssl-dev "InfluxDB HTTP output")
sunwire_optional(SQLITE    sqlite3       libsqlite3-dev       "embedded SQLite history")
sunwire_optional(INIH      inih          libinih-dev          "configuration files (sunwire run --config)")
# Required: jansson parses JSON input (state files, configuration, test vectors).
pkg_check_modules(JANSSON IMPORTED_TARGET jansson)
if(NOT JANSSON_FOUND)
  message(FATAL_ERROR "jansson not found: install the Debian package libjansson-dev "
    "(scripts/deps.sh does this for you)")
endif()
list(APPEND SUNWIRE_LINK_LIBS PkgConfig::JANSSON)
sunwire_pc_private(JANSSON)

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
