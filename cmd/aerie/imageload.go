package main

import (
	"fmt"
	"strconv"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/firmware"
)

// loadImageChip reads the configuration image at imgPath and the chip
// description it runs on — chipArg (a preset name or a TOML file), else
// the preset the image names — and checks that they match: aerie emulate
// and aerie serve load their image this way.
func loadImageChip(imgPath, chipArg string) (*firmware.Image, *chip.Config, error) {
	img, err := firmware.ReadImage(imgPath)
	if err != nil {
		return nil, nil, err
	}
	name := chipArg
	if name == "" {
		name = img.Chip
	}
	cfg, err := chip.LoadConfig(name)
	if err != nil {
		if chipArg == "" {
			return nil, nil, fmt.Errorf("%s was compiled for chip %q, which is not a preset: name its description with --chip (%w)", imgPath, img.Chip, err)
		}
		return nil, nil, err
	}
	if err := img.CheckChip(cfg); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", imgPath, err)
	}
	return img, cfg, nil
}

// seededProgram is the image's program, under the noise seed of a --seed
// flag when one is given (cmd names the command in the usage error).
func seededProgram(img *firmware.Image, cmd, seedArg string) (*chip.Program, error) {
	if seedArg == "" {
		return img.Program, nil
	}
	s, err := strconv.ParseUint(seedArg, 10, 64)
	if err != nil {
		return nil, usagef("%s: --seed %q: want an integer 0…2^64−1", cmd, seedArg)
	}
	p := *img.Program
	p.Seed = s
	return &p, nil
}
