// SPDX-License-Identifier: GPL-2.0
/*
 * config.c - find xkv_cfg (and, in learning mode, xkv_lcfg) in the pinned
 * .rodata maps with BTF.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "config.h"
#include "paths.h"

/* offset of variable @name in the DATASEC @sec_id of @btf, or -ENOENT */
static long var_offset(const struct btf *btf, __u32 sec_id, const char *name)
{
	const struct btf_type *sec = btf__type_by_id(btf, sec_id);
	const struct btf_var_secinfo *vs;
	__u16 i;

	if (!sec || !btf_is_datasec(sec))
		return -ENOENT;
	vs = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);

		if (var && !strcmp(btf__name_by_offset(btf, var->name_off),
				   name))
			return (long)vs->offset;
	}
	return -ENOENT;
}

/*
 * Copy variable @var (@size bytes) out of the pinned .rodata map @pin of
 * @pin_dir, found by name in the map's BTF.
 */
static int rodata_var_read(const char *pin_dir, const char *pin,
			   const char *var, void *out, size_t size)
{
	struct bpf_map_info info;
	__u32 ilen = sizeof(info), zero = 0;
	char path[PATH_MAX];
	struct btf *btf;
	void *val;
	long off;
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", pin_dir, pin);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen)) {
		err = -errno;
		goto close_fd;
	}
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf) {
		err = -errno;
		goto close_fd;
	}
	off = var_offset(btf, info.btf_value_type_id, var);
	if (off < 0 || (size_t)off + size > info.value_size) {
		err = -ENOENT;
		goto free_btf;
	}
	val = calloc(1, info.value_size);
	if (!val) {
		err = -ENOMEM;
		goto free_btf;
	}
	err = bpf_map_lookup_elem(fd, &zero, val) ? -errno : 0;
	if (!err)
		memcpy(out, (char *)val + off, size);
	free(val);
free_btf:
	btf__free(btf);
close_fd:
	close(fd);
	return err;
}

int xkv_config_read(const char *pin_dir, struct xkv_config *cfg)
{
	return rodata_var_read(pin_dir, XKV_PIN_RODATA, "xkv_cfg", cfg,
			       sizeof(*cfg));
}

int xkv_learn_config_read(const char *pin_dir, struct xkv_learn_config *cfg)
{
	return rodata_var_read(pin_dir, XKV_PIN_LRODATA, "xkv_lcfg", cfg,
			       sizeof(*cfg));
}
