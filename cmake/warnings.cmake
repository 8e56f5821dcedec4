# Warnings for the project's own targets (not for third-party code).
function(nnghttp_warnings target)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                           -Wno-missing-field-initializers)
    if(NNGHTTP_WARNINGS_AS_ERRORS)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
endfunction()
