/*
 * serial.c: open a serial port the way taptap does, but read-only.
 *
 * Exclusive (TIOCEXCL) so a second reader gets EBUSY instead of stealing
 * bytes; raw mode so no byte is translated; 38400 8N1 without flow control,
 * the Tigo gateway bus settings. The descriptor is opened O_RDONLY: an
 * observer has no reason to ever drive the bus.
 */
#include "io/io_source.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "io/net.h"

sw_err sw_serial_open(const char *path, int *fd_out)
{
    if (!path || !*path || !fd_out)
        return SW_ERR_INVALID_ARGUMENT;
    int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return SW_ERR_OPEN;
    struct termios tio;
    if (tcgetattr(fd, &tio) != 0) {
        close(fd);
        errno = ENOTTY;
        return SW_ERR_NOT_TTY;
    }
    if (ioctl(fd, TIOCEXCL) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return SW_ERR_OPEN;
    }
    cfmakeraw(&tio);
    tio.c_cflag |= CREAD | CLOCAL;
    tio.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB | CRTSCTS);
    tio.c_cflag |= CS8;
    tio.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    tio.c_cc[VMIN] = 1;
    tio.c_cc[VTIME] = 0;
    if (cfsetispeed(&tio, B38400) != 0 || cfsetospeed(&tio, B38400) != 0 ||
        tcsetattr(fd, TCSANOW, &tio) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return SW_ERR_OPEN;
    }
    /* Reads go through poll(); blocking mode only matters for a stray read(). */
    sw_fd_set_nonblocking(fd, 0);
    *fd_out = fd;
    return SW_OK;
}
