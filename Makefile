# Two commands: `make run` starts the cloud all-in-one, `make test` runs the
# whole suite. Each does its own set-up and is idempotent.
VENV   ?= .venv
PYTHON ?= python3
STAMP  := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: run test lint venv debs-test clean

$(STAMP): pyproject.toml deps/debian-build.txt
	@scripts/install-debs.sh $$(grep -hv '^#' deps/debian-build.txt)
	PYTHON=$(PYTHON) scripts/install-python.sh $(VENV)
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

debs-test:
	@scripts/install-debs.sh $$(grep -hv '^#' deps/debian-test.txt)

run: $(STAMP)
	$(VENV)/bin/pocketstack up

test: $(STAMP) debs-test
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check pocketstack tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
