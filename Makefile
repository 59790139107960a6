# ocrprep — the two commands of the quick start are `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SHARED ?= ../shared/data/sroie
PYTEST_ARGS ?=

.PHONY: venv demo test test-fast model system-deps bench bench-quality bench-train bench-enhance \
        bench-regions bench-regions-phone bench-serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test,bench]"
	touch $(STAMP)

venv: $(STAMP)

system-deps:
	bash scripts/system-deps.sh test

## The main job on the bundled examples: synthesise a few bad copies of the bundled receipts,
## then validate + enhance them all with the bundled model; outputs and report.jsonl under out/.
demo: venv
	rm -rf out/examples out/processed out/report.jsonl
	$(BIN)/ocrprep synth tests/fixtures/receipts --out out/examples --seed 7 \
	    --kinds blur,motion_blur,dark,faint,noise,occlusion,skew,rotate,shadow --per-kind 1
	$(BIN)/ocrprep process out/examples --out out/processed --steps validate,enhance \
	    --report out/report.jsonl || test $$? -eq 3
	@echo "outputs: out/processed/   report: out/report.jsonl"

## The whole test suite, with a real PostgreSQL server, Tesseract and Chromium.
test: venv system-deps
	@url=$$(bash scripts/pg.sh start) && trap 'bash scripts/pg.sh stop' EXIT && \
	TEST_POSTGRES_URL=$$url $(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: venv
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

## Retrain the bundled default quality model from ../shared/data/sroie plus synthetic degradations.
model: venv
	$(BIN)/python scripts/train_default_model.py --data $(SHARED)

bench: bench-quality bench-train bench-enhance bench-regions bench-serve

bench-quality: venv
	$(BIN)/python bench/bench_quality.py --data $(SHARED)

bench-train: venv
	$(BIN)/python bench/bench_train.py --data $(SHARED)

bench-enhance: venv
	bash scripts/system-deps.sh bench
	$(BIN)/python bench/bench_enhance.py --data $(SHARED)

bench-regions: venv
	$(BIN)/python bench/bench_regions.py --data $(SHARED)

## The OCR section of bench-regions on 8 photos composed at a phone-like 12 MP (beside the 1.9-MP one).
bench-regions-phone: venv
	$(BIN)/python bench/bench_regions.py --data $(SHARED) --limit 8 --ocr-limit 0 --phone-ocr 8 --detector-train 0 --detector-text-train 0 \
		--out bench/results/regions_phone.txt

bench-serve: venv
	$(BIN)/python bench/bench_serve.py

clean:
	rm -rf out build dist src/*.egg-info .pytest_cache
