# Give every area the include paths of the optional libraries that were found.
foreach(t IN LISTS SUNWIRE_AREA_TARGETS)
  target_link_libraries(${t} PUBLIC ${SUNWIRE_LINK_LIBS})
endforeach()
