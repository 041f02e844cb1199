package plot

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"sync"
)

// The plot writes with a bitmap atlas of DejaVu Sans (font/, rendered by
// internal/fontgen; the fonts' licence is in font/LICENSE): printable ASCII
// and "·×→≥–", four faces. No font library and no system font are needed.
//
//go:generate go run ./internal/fontgen -out font

//go:embed font/faces.json font/*.png
var fontFS embed.FS

// face is one font face of the atlas.
type face struct {
	cellW, cellH, baseline int
	adv                    []float64
	atlas                  *image.Gray
	index                  map[rune]int
}

// Face names.
const (
	faceSmall  = "small"  // 13px: ticks, legend, rule labels
	faceNormal = "normal" // 15px: subtitles
	faceBold   = "bold"   // bold 15px: panel titles
	faceTitle  = "title"  // bold 20px: the figure's title
)

// loadFaces reads the atlas once.
var loadFaces = sync.OnceValues(func() (map[string]*face, error) {
	data, err := fontFS.ReadFile("font/faces.json")
	if err != nil {
		return nil, err
	}
	var meta struct {
		Glyphs string `json:"glyphs"`
		Faces  []struct {
			Name     string    `json:"name"`
			CW       int       `json:"cellW"`
			CH       int       `json:"cellH"`
			BL       int       `json:"baseline"`
			Advances []float64 `json:"advances"`
		} `json:"faces"`
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		return nil, fmt.Errorf("font atlas: %w", err)
	}
	glyphs := []rune(meta.Glyphs)
	out := map[string]*face{}
	for _, f := range meta.Faces {
		raw, err := fontFS.ReadFile("font/" + f.Name + ".png")
		if err != nil {
			return nil, err
		}
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("font atlas %s: %w", f.Name, err)
		}
		gray, ok := img.(*image.Gray)
		if !ok || len(f.Advances) != len(glyphs) {
			return nil, fmt.Errorf("font atlas %s: not a grey atlas of %d glyphs", f.Name, len(glyphs))
		}
		fc := &face{cellW: f.CW, cellH: f.CH, baseline: f.BL, adv: f.Advances, atlas: gray, index: map[rune]int{}}
		for i, r := range glyphs {
			fc.index[r] = i
		}
		out[f.Name] = fc
	}
	for _, n := range []string{faceSmall, faceNormal, faceBold, faceTitle} {
		if out[n] == nil {
			return nil, fmt.Errorf("font atlas: no face %q", n)
		}
	}
	return out, nil
})

// glyph returns the atlas index of r ('?' for a rune the atlas lacks).
func (f *face) glyph(r rune) int {
	if i, ok := f.index[r]; ok {
		return i
	}
	return f.index['?']
}

// width is the advance of s in pixels.
func (f *face) width(s string) float64 {
	w := 0.0
	for _, r := range s {
		w += f.adv[f.glyph(r)]
	}
	return w
}

// draw writes s with its baseline at y, starting at x, blending col by
// each glyph's coverage.
func (f *face) draw(img *image.RGBA, x, y float64, s string, col color.RGBA) {
	const atlasColumns = 16
	for _, r := range s {
		if x > float64(img.Rect.Max.X) {
			return // the rest would fall outside the image
		}
		g := f.glyph(r)
		gx, gy := (g%atlasColumns)*f.cellW, (g/atlasColumns)*f.cellH
		ox, oy := int(math.Round(x))-2, int(math.Round(y))-f.baseline
		for j := range f.cellH {
			for i := range f.cellW {
				if a := f.atlas.GrayAt(gx+i, gy+j).Y; a > 0 {
					blend(img, ox+i, oy+j, col, float64(a)/255)
				}
			}
		}
		x += f.adv[g]
	}
}

// blend paints col over the pixel (x, y) with coverage a in [0, 1].
func blend(img *image.RGBA, x, y int, col color.RGBA, a float64) {
	if !(image.Point{x, y}.In(img.Rect)) || a <= 0 {
		return
	}
	a = math.Min(a, 1) * float64(col.A) / 255
	o := img.PixOffset(x, y)
	p := img.Pix[o : o+4 : o+4]
	p[0] = uint8(float64(p[0])*(1-a) + float64(col.R)*a + 0.5)
	p[1] = uint8(float64(p[1])*(1-a) + float64(col.G)*a + 0.5)
	p[2] = uint8(float64(p[2])*(1-a) + float64(col.B)*a + 0.5)
	p[3] = 0xff
}
