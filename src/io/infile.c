/*
 * infile opens the inputs of read and lint-like commands, and puts a named input that can be
 * read only once on standard input. It never reads them: the capture and HAR readers do, from
 * the FILE it hands over.
 */
#include "hspy/infile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int infile_open(struct infile *f, const char *path, const char *name, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    bool use_stdin = strcmp(path, "-") == 0;
    f->name = name ? name : use_stdin ? "stdin" : path;
    f->file = use_stdin ? stdin : fopen(path, "rb");
    if (!f->file) {
        snprintf(err, errlen, "%s: %s", f->name, strerror(errno));
        return -1;
    }
    struct stat st;
    bool known = fstat(fileno(f->file), &st) == 0;
    if (known && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory", f->name);
        if (f->file != stdin)
            fclose(f->file);
        f->file = NULL;
        return -1;
    }
    f->seekable = known && S_ISREG(st.st_mode);
    f->size = f->seekable ? (uint64_t)st.st_size : 0;
    return 0;
}

bool infile_stream_to_stdin(const char *path)
{
    struct stat st;
    if (strcmp(path, "-") == 0 || stat(path, &st) != 0 ||
        !(S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)))
        return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = !isatty(fd) && (fd == STDIN_FILENO || dup2(fd, STDIN_FILENO) == STDIN_FILENO);
    if (fd != STDIN_FILENO)
        close(fd);
    if (ok)
        clearerr(stdin);
    return ok;
}
