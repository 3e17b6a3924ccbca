/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cmds.h - the subcommands. Each takes the command line from its own name
 * on (argv[0] is "up", "down", ...) and returns the process exit status:
 * 0 success, 1 failure, 2 usage error.
 */
#ifndef XKV_LOADER_CMDS_H
#define XKV_LOADER_CMDS_H

#include "params.h"

#define XKV_EXIT_OK 0
#define XKV_EXIT_FAIL 1
#define XKV_EXIT_USAGE 2

int xkv_cmd_up(int argc, char **argv);
int xkv_cmd_down(int argc, char **argv);
int xkv_cmd_attach(int argc, char **argv);
int xkv_cmd_detach(int argc, char **argv);
int xkv_cmd_status(int argc, char **argv);
int xkv_cmd_stats(int argc, char **argv);
int xkv_cmd_flush(int argc, char **argv);
int xkv_cmd_allow(int argc, char **argv);
int xkv_cmd_tcpfast(int argc, char **argv);

/**
 * xkv_params_exit() - the exit status for a xkv_params_parse() result
 * that is not 0.
 * @ret: 1 (help printed) or -EINVAL (usage error)
 *
 * Return: XKV_EXIT_OK or XKV_EXIT_USAGE.
 */
static inline int xkv_params_exit(int ret)
{
	return ret > 0 ? XKV_EXIT_OK : XKV_EXIT_USAGE;
}

#endif /* XKV_LOADER_CMDS_H */
