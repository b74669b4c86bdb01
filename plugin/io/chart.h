// chart.png of a run: its loss against the first CSV column (batch or round),
// with the loss's running average, and top-1 (0-100 %, right axis) at the rows
// that have one, from the run's CSV text (header line first).
#ifndef INV_CHART_H
#define INV_CHART_H

// loss_col and top1_col name CSV columns (top1_col NULL or absent: no top-1
// curve); rows whose first field is empty are skipped, empty fields are gaps.
// Written atomically; dies like save_png_bytes on a write error.
void save_csv_chart(const char *path, const char *csv, const char *title, const char *loss_col, const char *top1_col);
#endif
