/* SPDX-License-Identifier: GPL-2.0 */
/*
 * config.h - read back the settings an attached program was loaded with,
 * from its pinned .rodata map (xkv_rodata; xkv_lrodata for the learning
 * programs), found through the map's BTF.
 */
#ifndef XKV_LOADER_CONFIG_H
#define XKV_LOADER_CONFIG_H

#include "xkv_config.h"
#include "xkv_learn_maps.h"

/**
 * xkv_config_read() - the program's struct xkv_config.
 * @pin_dir: the interface's pin directory
 * @cfg:     out
 *
 * Return: 0, or -errno (-ENOENT: no such pin or variable).
 */
int xkv_config_read(const char *pin_dir, struct xkv_config *cfg);

/**
 * xkv_learn_config_read() - the learning programs' struct
 * xkv_learn_config (learning mode only).
 * @pin_dir: the interface's pin directory
 * @cfg:     out
 *
 * Return: 0, or -errno (-ENOENT: not in learning mode).
 */
int xkv_learn_config_read(const char *pin_dir, struct xkv_learn_config *cfg);

#endif /* XKV_LOADER_CONFIG_H */
