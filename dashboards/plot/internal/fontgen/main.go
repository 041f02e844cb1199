// Command fontgen renders the glyphs the backtest plot writes with (ASCII
// and a few symbols) in DejaVu Sans at the plot's sizes, with headless
// chromium, into the font atlas dashboards/plot/font embeds: one grey PNG
// per face (glyphs in a grid, alpha as grey) and faces.json (cell size,
// baseline and advance of every glyph). Run it from dashboards/plot with
// `go generate` after changing the faces or the glyph set; chromium and
// the DejaVu fonts (Debian's fonts-dejavu-core) must be installed.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"time"

	"github.com/chromedp/chromedp"
)

// face is one font face to render.
type face struct {
	Name   string `json:"name"`
	CSS    string `json:"css"`
	SizePx int    `json:"sizePx"`
}

var faces = []face{
	{Name: "small", CSS: "13px 'DejaVu Sans'", SizePx: 13},
	{Name: "normal", CSS: "15px 'DejaVu Sans'", SizePx: 15},
	{Name: "bold", CSS: "bold 15px 'DejaVu Sans'", SizePx: 15},
	{Name: "title", CSS: "bold 20px 'DejaVu Sans'", SizePx: 20},
}

// Glyphs are the characters of the atlas: printable ASCII and the symbols
// the plot's labels use.
const Glyphs = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~·×→≥–"

// rendered is what the page returns for one face.
type rendered struct {
	CellW    int       `json:"cellW"`
	CellH    int       `json:"cellH"`
	Baseline int       `json:"baseline"`
	Advances []float64 `json:"advances"`
	Alpha    string    `json:"alpha"` // base64, cellW*cellH bytes per glyph, glyph after glyph
}

const script = `(() => {
const glyphs = Array.from(%q);
const c = document.createElement('canvas');
const x = c.getContext('2d');
x.font = %q;
let adv = glyphs.map(g => x.measureText(g).width);
const m = x.measureText('Hgjy|');
const asc = Math.ceil(m.fontBoundingBoxAscent), desc = Math.ceil(m.fontBoundingBoxDescent);
const cellW = Math.ceil(Math.max(...adv)) + 4, cellH = asc + desc + 2;
c.width = cellW; c.height = cellH;
const out = new Uint8Array(cellW * cellH * glyphs.length);
glyphs.forEach((g, i) => {
  x.clearRect(0, 0, cellW, cellH);
  x.font = %q; x.fillStyle = '#000'; x.textBaseline = 'alphabetic';
  x.fillText(g, 2, asc + 1);
  const d = x.getImageData(0, 0, cellW, cellH).data;
  for (let p = 0; p < cellW * cellH; p++) out[i * cellW * cellH + p] = d[p * 4 + 3];
});
let s = ''; for (let i = 0; i < out.length; i++) s += String.fromCharCode(out[i]);
return {cellW, cellH, baseline: asc + 1, advances: adv, alpha: btoa(s)};
})()`

func main() {
	out := flag.String("out", "font", "directory to write the atlas into")
	chromium := flag.String("chromium", "/usr/bin/chromium", "chromium binary")
	flag.Parse()
	if err := run(*out, *chromium); err != nil {
		fmt.Fprintln(os.Stderr, "fontgen:", err)
		os.Exit(1)
	}
}

func run(dir, chromium string) error {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Flag("font-render-hinting", "none"))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, time.Minute)
	defer cancelT()
	if _, err := chromedp.Run(ctx, chromedp.Navigate("about:blank")); err != nil {
		return err
	}
	type faceMeta struct {
		face
		CellW    int       `json:"cellW"`
		CellH    int       `json:"cellH"`
		Baseline int       `json:"baseline"`
		Advances []float64 `json:"advances"`
	}
	meta := struct {
		Glyphs string     `json:"glyphs"`
		Faces  []faceMeta `json:"faces"`
	}{Glyphs: Glyphs}
	for _, f := range faces {
		js := fmt.Sprintf(script, Glyphs, f.CSS, f.CSS)
		r, err := chromedp.Run(ctx, chromedp.Evaluate[rendered](js))
		if err != nil {
			return fmt.Errorf("face %s: %w", f.Name, err)
		}
		alpha, err := base64.StdEncoding.DecodeString(r.Alpha)
		if err != nil {
			return err
		}
		// btoa of a binary string: each byte is one char below 256.
		if len(alpha) != r.CellW*r.CellH*len([]rune(Glyphs)) {
			return fmt.Errorf("face %s: %d alpha bytes, want %d", f.Name, len(alpha), r.CellW*r.CellH*len([]rune(Glyphs)))
		}
		if err := writeAtlas(filepath.Join(dir, f.Name+".png"), alpha, r.CellW, r.CellH, len([]rune(Glyphs))); err != nil {
			return err
		}
		meta.Faces = append(meta.Faces, faceMeta{face: f, CellW: r.CellW, CellH: r.CellH, Baseline: r.Baseline, Advances: r.Advances})
	}
	data, err := json.MarshalIndent(meta, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "faces.json"), append(data, '\n'), 0o644)
}

// atlasColumns is the width of the atlas grid, in glyphs.
const atlasColumns = 16

// writeAtlas stores the glyphs' alpha as a grey PNG, glyph i at column
// i%16, row i/16 of the grid.
func writeAtlas(path string, alpha []byte, cw, ch, n int) error {
	rows := (n + atlasColumns - 1) / atlasColumns
	img := image.NewGray(image.Rect(0, 0, cw*atlasColumns, ch*rows))
	for i := range n {
		ox, oy := (i%atlasColumns)*cw, (i/atlasColumns)*ch
		for y := range ch {
			for x := range cw {
				img.SetGray(ox+x, oy+y, color.Gray{Y: alpha[i*cw*ch+y*cw+x]})
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
