/** uPlot line/bar charts. Rates are plain numbers; amounts are converted for the axis only. */

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { h } from "./dom";

export interface ChartSpec {
  label: string;
  x: number[];
  y: number[];
  yFormat: (v: number) => string;
  bars?: boolean;
  timeAxis?: boolean;
}

/**
 * Draw into a fresh container; width follows the container (375 px phones included).
 * Returns the container; a canvas-less environment gets a text fallback instead.
 */
export function chart(spec: ChartSpec): HTMLElement {
  const box = h("div", { class: "chart", role: "img", "aria-label": spec.label });
  if (spec.x.length === 0) {
    box.append(h("p", { class: "empty" }, "No data yet."));
    return box;
  }
  let canvasOk = false;
  try {
    canvasOk = !!document.createElement("canvas").getContext("2d");
  } catch {
    /* no canvas */
  }
  if (!canvasOk) {
    box.append(h("p", { class: "empty" }, "The chart cannot be drawn in this browser."));
    return box;
  }
  const draw = () => {
    // Estimate the width from the viewport (charts sit in full-width panels) instead of
    // reading box.clientWidth, which would force a synchronous layout of the whole page.
    // Erring narrow (a possible scrollbar) keeps the first frame right; the
    // ResizeObserver below widens it only when the box is clearly wider.
    const vw = window.innerWidth;
    const gutter = vw <= 600 ? 2 * 9.6 + 2 * 13 : 2 * 16 + 2 * 17;
    const width = Math.max(280, Math.floor(Math.min(vw - 15, 1200) - gutter));
    const t0 = performance.now();
    try {
      const plot = new uPlot(
        {
          width,
          height: 220,
          legend: { show: false },
          cursor: { drag: { x: false, y: false } },
          // Amounts and rates start at zero, so bar heights compare honestly.
          scales: { x: { time: spec.timeAxis !== false }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
          axes: [
            { stroke: "#3b4250", grid: { stroke: "#e3e6ea" } },
            { stroke: "#3b4250", grid: { stroke: "#e3e6ea" }, size: 84, values: (_u, vals) => vals.map(spec.yFormat) },
          ],
          series: [
            {},
            {
              label: spec.label,
              stroke: "#1d4ed8",
              fill: "rgba(29,78,216,0.12)",
              width: 2,
              paths: spec.bars && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.7, 40] }) : undefined,
              points: { show: false },
            },
          ],
        },
        [spec.x, spec.y],
        box,
      );
      const ro = new ResizeObserver((entries) => {
        const w = Math.max(280, Math.floor(entries[0]?.contentRect.width ?? box.clientWidth));
        if (w && (w < plot.width || w - plot.width > 24)) plot.setSize({ width: w, height: 220 });
      });
      ro.observe(box);
      performance.measure("render:chart", { start: t0, end: performance.now() });
    } catch {
      box.replaceChildren(h("p", { class: "empty" }, "The chart cannot be drawn in this browser."));
    }
  };
  // Draw as soon as the caller has put the box in the document (it needs its width).
  queueMicrotask(draw);
  return box;
}
