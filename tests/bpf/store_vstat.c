// SPDX-License-Identifier: GPL-2.0
/*
 * store_vstat.c - load a BPF object once with the verifier's statistics
 * (log level 4) and print them: for the store program with its kfunc
 * stubbed (tests/bpf/store_stub.bpf.c), on a kernel without xkv.ko.
 *
 *   store_vstat OBJ
 *
 * Prints the verifier's "processed N insns ..." line(s); exit 1 when the
 * object does not load.
 */
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

static char vlog[1 << 20];

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .kernel_log_buf = vlog,
		    .kernel_log_size = sizeof(vlog), .kernel_log_level = 4);
	struct bpf_object *obj;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: store_vstat OBJ\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], &opts);
	if (!obj) {
		fprintf(stderr, "cannot open %s\n", argv[1]);
		return 1;
	}
	err = bpf_object__load(obj);
	printf("%s: %s\n%s", argv[1], err ? "not loaded" : "loaded", vlog);
	bpf_object__close(obj);
	return err ? 1 : 0;
}
