# NNGHTTP_SANITIZER=address builds everything with ASan+UBSan,
# NNGHTTP_SANITIZER=thread with TSan.  Applied globally so that every object,
# tests included, is instrumented the same way.
if(NNGHTTP_SANITIZER STREQUAL "address")
    add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                        -fno-sanitize-recover=undefined)
    add_link_options(-fsanitize=address,undefined)
elseif(NNGHTTP_SANITIZER STREQUAL "thread")
    add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
        # GCC warns that TSan does not model atomic_thread_fence, which
        # Asio's headers use; not our code, and not a reason to fail.
        add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-Wno-tsan>)
    endif()
    add_link_options(-fsanitize=thread)
elseif(NOT NNGHTTP_SANITIZER STREQUAL "")
    message(FATAL_ERROR "NNGHTTP_SANITIZER must be '', 'address' or 'thread'")
endif()
