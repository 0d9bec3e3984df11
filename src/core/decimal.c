/*
 * decimal owns the table of digit pairs the inline writers in decimal.h share. It knows
 * nothing about where the digits go.
 */
#include "hspy/decimal.h"

const char DECIMAL_PAIRS[201] = "0001020304050607080910111213141516171819"
                                "2021222324252627282930313233343536373839"
                                "4041424344454647484950515253545556575859"
                                "6061626364656667686970717273747576777879"
                                "8081828384858687888990919293949596979899";
