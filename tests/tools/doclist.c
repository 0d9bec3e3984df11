/*
 * doclist: prints what the documentation must cover, straight from the tables the program is
 * built from, for tests/e2e/docs.sh: every subcommand, every option of the option table with
 * the subcommands that accept it, and every warning code. It reads tables and prints; nothing
 * else.
 *
 * Output, one item per line:
 *   command NAME
 *   option NAME COMMAND...
 *   warning CODE
 */
#include <stdio.h>

#include "hspy/options.h"
#include "hspy/warning.h"

int main(void)
{
    for (int c = CMD_NONE + 1; c < CMD__COUNT; c++)
        printf("command %s\n", command_name((enum command)c));
    unsigned commands;
    const char *name;
    for (size_t i = 0; (name = options_name(i, &commands)) != NULL; i++) {
        printf("option %s", name);
        for (int c = CMD_NONE + 1; c < CMD__COUNT; c++)
            if (commands & CMD_BIT(c))
                printf(" %s", command_name((enum command)c));
        putchar('\n');
    }
    for (int w = W_NONE + 1; w < W__COUNT; w++)
        printf("warning %s\n", warning_name((enum warning_code)w));
    return ferror(stdout) ? 1 : 0;
}
