/* SPDX-License-Identifier: GPL-2.0 */
/*
 * report.h - print what a run measured, as text or one JSON object.
 */
#ifndef XKV_BENCH_REPORT_H
#define XKV_BENCH_REPORT_H

#include "run.h"

/**
 * struct bench_report - everything printed.
 * @sh:      settings
 * @server:  printable server address
 * @pre:     the preload, or NULL when there was none
 * @run:     the measured run
 */
struct bench_report {
	const struct bench_shared *sh;
	const char *server;
	const struct bench_phase *pre;
	const struct bench_phase *run;
};

void report_text(const struct bench_report *r);
void report_json(const struct bench_report *r);

#endif /* XKV_BENCH_REPORT_H */
