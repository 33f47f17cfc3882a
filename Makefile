# Vitrine — the commands a newcomer needs: `make run` and `make test`.
# DATABASE_URL / REDIS_URL are used when set; otherwise embedded PostgreSQL and Redis run from .local/.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_WORKERS ?= 2

.PHONY: help install run test test-fast lint format bench migrate seed clean

help:
	@echo "make run    start Vitrine with demo data (embedded PostgreSQL and Redis unless URLs are set)"
	@echo "make test   run the whole test suite against real PostgreSQL and Redis"
	@echo "make lint   ruff and mypy --strict"
	@echo "make bench  benchmarks (figures into docs/performance.md)"

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Vitrine needs Python 3.11 or newer"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/vitrine dev

test: install
	$(BIN)/vitrine embedded -- $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/vitrine embedded -- sh -c "$(BIN)/python -m benchmarks && $(BIN)/python -m benchmarks.latency_at_rate && $(BIN)/python -m benchmarks.log_growth && $(BIN)/python -m benchmarks.access_ingest && $(BIN)/python -m benchmarks.declaration_ingest && $(BIN)/python -m benchmarks.notification_latency && { $(BIN)/python -m benchmarks.soak; $(BIN)/python -m benchmarks.summary; }"

migrate: install
	$(BIN)/vitrine embedded -- $(BIN)/vitrine migrate

seed: install
	$(BIN)/vitrine embedded -- $(BIN)/vitrine seed

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts

# Translations: re-extract every marked string (babel.cfg) into frontend/locale/messages.pot and merge it into the
# nl/fr/de/en catalogs. Translators then fill each new empty msgstr in frontend/locale/<lang>/LC_MESSAGES/messages.po
# (English: copy the msgid); tests/frontend/test_catalogs.py fails until every catalog is complete.
LOCALE_DIR := frontend/locale
LANGUAGES := nl fr de en

.PHONY: messages

messages: install
	$(BIN)/pybabel extract -F babel.cfg --add-location=file --sort-output --no-wrap -c "TRANSLATORS:" \
		--project=Vitrine --copyright-holder=Vitrine -o $(LOCALE_DIR)/messages.pot .
	for lang in $(LANGUAGES); do \
		$(BIN)/pybabel update -i $(LOCALE_DIR)/messages.pot -d $(LOCALE_DIR) -l $$lang \
			--no-wrap --no-fuzzy-matching --ignore-obsolete || exit 1; \
	done
