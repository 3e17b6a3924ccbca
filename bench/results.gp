# SPDX-License-Identifier: GPL-2.0
#
# results.gp - bench/compare's chart: GET/s (left) and CPU per GET (right)
# of each configuration.
#
#   gnuplot -e "datafile='build/bench-compare/plot.dat'; \
#               outfile='bench/results.png'" bench/results.gp
#
# datafile (bench/report.py --plot-data): one row per configuration:
# "label" udp_gets udp_min udp_max tcp_gets tcp_min tcp_max (thousands)
# cpu_floor_part cpu_above_floor cpu_tcp (microseconds per GET).

set terminal pngcairo size 1400,560 font "DejaVu Sans,11"
set output outfile
set multiplot layout 1,2 title "xkv vs memcached, same client, same machine (bench/compare)"

set style data histograms
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics lc rgb "#dddddd"
set key top left
set xtics nomirror scale 0
set yrange [0:*]

set title "GET/s, thousands (median, min-max)"
set style histogram errorbars gap 1 lw 1
plot datafile using 2:3:4:xtic(1) title "UDP" lc rgb "#4477aa", \
     '' using 5:6:7 title "TCP" lc rgb "#ee6677"

set title "CPU per GET over UDP, us (client + server + ksoftirqd)"
set style histogram rowstacked gap 1
set boxwidth 0.6
plot datafile using 8:xtic(1) title "floor's share (client + kernel)" lc rgb "#bbbbbb", \
     '' using 9 title "above the floor (server's own)" lc rgb "#4477aa"

unset multiplot
