/*
 * tigo_ports.c: `list-serial-ports`, read from sysfs instead of udev.
 *
 * A tty is listed when a real device stands behind it (a `device` link under
 * /sys/class/tty), which leaves out virtual consoles and ptys; legacy 8250
 * ports whose UART type is 0 (nothing detected) are left out too. USB ports
 * get their ids and strings from the nearest USB device up the sysfs tree.
 * The ids are printed vendor:product, the order lsusb and every datasheet
 * use (taptap prints product:vendor). SUNWIRE_SYSFS_ROOT replaces /sys, so
 * tests can present a made-up device tree.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/tigo_cli.h"
#include "io/log.h"

#define MAX_PORTS 512

typedef struct port {
    char name[64];
    char detail[320];
} port;

static int read_line(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    if (!fgets(out, (int)cap, f)) {
        fclose(f);
        return -1;
    }
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

static void usb_detail(const char *devpath, char *out, size_t cap)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", devpath);
    /* Walk up from the tty's device to the USB device that carries the ids. */
    for (int depth = 0; depth < 8; depth++) {
        char p[PATH_MAX + 32], vid[16], pid[16];
        if (snprintf(p, sizeof p, "%s/idVendor", dir) >= (int)sizeof p)
            return;
        if (read_line(p, vid, sizeof vid) == 0) {
            if (snprintf(p, sizeof p, "%s/idProduct", dir) >= (int)sizeof p)
                return;
            if (read_line(p, pid, sizeof pid) != 0)
                return;
            char manu[128] = "", prod[128] = "";
            if (snprintf(p, sizeof p, "%s/manufacturer", dir) >= (int)sizeof p)
                return;
            int has_m = read_line(p, manu, sizeof manu) == 0;
            if (snprintf(p, sizeof p, "%s/product", dir) >= (int)sizeof p)
                return;
            int has_p = read_line(p, prod, sizeof prod) == 0;
            if (has_m && has_p)
                snprintf(out, cap, "USB %s:%s (%s %s)", vid, pid, manu, prod);
            else
                snprintf(out, cap, "USB %s:%s", vid, pid);
            return;
        }
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
            return;
        *slash = '\0';
    }
}

static int cmp_port(const void *a, const void *b)
{
    return strcmp(((const port *)a)->name, ((const port *)b)->name);
}

int tigo_cmd_list_serial_ports(tigo_cli *cli)
{
    const char *root = getenv("SUNWIRE_SYSFS_ROOT");
    if (!root || !*root)
        root = "/sys";
    char classdir[PATH_MAX];
    snprintf(classdir, sizeof classdir, "%s/class/tty", root);
    DIR *d = opendir(classdir);
    if (!d) {
        SW_LOGE(cli->log_target, "cannot enumerate serial ports: %s", classdir);
        return 1;
    }
    port *ports = calloc(MAX_PORTS, sizeof *ports);
    if (!ports) {
        closedir(d);
        return 1;
    }
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_PORTS) {
        if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof ports[0].name)
            continue;
        char link[PATH_MAX + 64], real[PATH_MAX];
        if (snprintf(link, sizeof link, "%s/%s/device", classdir, e->d_name) >= (int)sizeof link ||
            !realpath(link, real))
            continue; /* no hardware behind it */
        char p[PATH_MAX + 64], type[16];
        if (snprintf(p, sizeof p, "%s/%s/type", classdir, e->d_name) >= (int)sizeof p)
            continue;
        if (strncmp(e->d_name, "ttyS", 4) == 0 && read_line(p, type, sizeof type) == 0 && strcmp(type, "0") == 0)
            continue; /* a legacy UART slot with no UART */
        port *pt = &ports[n++];
        memcpy(pt->name, e->d_name, strlen(e->d_name) + 1); /* length checked above */
        pt->detail[0] = '\0';
        if (strstr(real, "/usb"))
            usb_detail(real, pt->detail, sizeof pt->detail);
        else if (strncmp(e->d_name, "rfcomm", 6) == 0)
            snprintf(pt->detail, sizeof pt->detail, "Bluetooth");
    }
    closedir(d);
    qsort(ports, n, sizeof *ports, cmp_port);

    char line[512];
    int rc = 0;
    if (n == 0) {
        rc = tigo_emit_line(cli, "No serial ports detected.", 25);
    } else {
        rc = tigo_emit_line(cli, "Detected:", 9);
        for (size_t i = 0; i < n && rc == 0; i++) {
            int len = snprintf(line, sizeof line, "    --serial /dev/%s", ports[i].name);
            rc = tigo_emit_line(cli, line, (size_t)len);
            if (rc == 0 && ports[i].detail[0]) {
                len = snprintf(line, sizeof line, "      %s", ports[i].detail);
                rc = tigo_emit_line(cli, line, (size_t)len);
            }
        }
    }
    free(ports);
    if (rc) {
        SW_LOGE(cli->log_target, "cannot write to standard output");
        return 1;
    }
    return 0;
}
