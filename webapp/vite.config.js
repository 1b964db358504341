import { defineConfig } from "vite";

// Built into dist/, served by the control service at "/" (pbx_control/webapp). Relative asset paths so the
// app works under any mount; no CDN: everything is bundled.
export default defineConfig({
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
});
