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
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#define VLOG_SIZE (1 << 20)

/* every line of @log, after the program's name */
static void print_log(const char *name, char *log)
{
	char *line, *save = NULL;

	for (line = strtok_r(log, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		printf("%s: %s\n", name, line);
}

int main(int argc, char **argv)
{
	struct bpf_program *prog;
	struct bpf_object *obj;
	int err, n = 0, i;
	char *logs[8];

	if (argc != 2) {
		fprintf(stderr, "usage: store_vstat OBJ\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "cannot open %s\n", argv[1]);
		return 1;
	}
	/* a log of its own for each program: level 4, the statistics */
	bpf_object__for_each_program(prog, obj) {
		if (n == 8)
			break;
		logs[n] = calloc(1, VLOG_SIZE);
		if (!logs[n] || bpf_program__set_log_buf(prog, logs[n],
							 VLOG_SIZE) ||
		    bpf_program__set_log_level(prog, 4)) {
			fprintf(stderr, "cannot set a verifier log\n");
			return 1;
		}
		n++;
	}
	err = bpf_object__load(obj);
	printf("%s: %s\n", argv[1], err ? "not loaded" : "loaded");
	i = 0;
	bpf_object__for_each_program(prog, obj) {
		if (i == n)
			break;
		print_log(bpf_program__name(prog), logs[i]);
		free(logs[i++]);
	}
	bpf_object__close(obj);
	return err ? 1 : 0;
}
