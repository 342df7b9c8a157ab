/* mote boot's command line (boot_cli.c), for main.c's dispatch. */
#ifndef MOTE_BOOT_CLI_H
#define MOTE_BOOT_CLI_H

/* Parses argv (argv[0] is "boot") and boots; returns the exit status. */
int cmd_boot(int argc, char **argv);

#endif
