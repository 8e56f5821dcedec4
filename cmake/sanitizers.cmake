# NNGHTTP_SANITIZER=address builds everything with ASan+UBSan,
# NNGHTTP_SANITIZER=thread with TSan.  Applied globally so that every object,
# tests included, is instrumented the same way.
if(NNGHTTP_SANITIZER STREQUAL "address")
    add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                        -fno-sanitize-recover=undefined)
    add_link_options(-fsanitize=address,undefined)
elseif(NNGHTTP_SANITIZER STREQUAL "thread")
    add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
    add_link_options(-fsanitize=thread)
elseif(NOT NNGHTTP_SANITIZER STREQUAL "")
    message(FATAL_ERROR "NNGHTTP_SANITIZER must be '', 'address' or 'thread'")
endif()
