# The README's two commands: `make demo` (the bridge end to end on local stand-ins) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench translations clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	cd $(CURDIR) && $(BIN)/python -m standins.demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	cd $(CURDIR) && $(BIN)/python -m bench.webhook_latency

# After changing the console's words: refresh the catalog, translate the new entries in messages.po, run again.
translations: $(STAMP)
	$(BIN)/pybabel extract --no-location --omit-header -k _l -F babel.cfg -o bridge/web/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching -i bridge/web/translations/messages.pot \
		-d bridge/web/translations -l it_IT
	$(BIN)/pybabel compile --statistics -d bridge/web/translations

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
