"""Run parameters that may only be known when the job runs (Dataflow classic template launch).

A classic template is built once and launched many times with parameters, so nothing here may
read a value at graph construction: every value is a ValueProvider whose `.get()` is called only
inside DoFns. The local driver passes StaticValueProviders; a template build leaves them as
RuntimeValueProviders filled from the launch parameters `input`, `output`, `run_id` and
`source_system`.
"""

from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.options.value_provider import StaticValueProvider, ValueProvider

from pipeline.contract import temp_folder


class AikeyOptions(PipelineOptions):
    """Template parameters (underscore names, as Dataflow passes them at launch)."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_value_provider_argument(
            "--input", help="comma-separated input files, globs or folders (local or gs://)"
        )
        parser.add_value_provider_argument("--output", help="output folder (local or gs://)")
        parser.add_value_provider_argument(
            "--run_id", help="run id for the manifest; defaults to the output folder's name"
        )
        parser.add_value_provider_argument(
            "--source_system", help="override the source system of every input file"
        )


def _same(value):
    return value


def static(value):
    """Wrap a known value (None included: StaticValueProvider(str, None) would be "None")."""
    return StaticValueProvider(_same, value)


def resolve(value):
    """Return the value of a ValueProvider, or the value itself; call only at run time."""
    return value.get() if isinstance(value, ValueProvider) else value


class RunParams:
    """The run's inputs, output, run id and source system, read lazily (picklable)."""

    def __init__(self, inputs, output, run_id, source_system):
        self._inputs, self._output = inputs, output
        self._run_id, self._source_system = run_id, source_system

    def inputs(self):
        """A list (local driver: --input repeated) or a comma-separated string (template)."""
        value = resolve(self._inputs)
        if isinstance(value, str):
            value = value.split(",")
        inputs = [uri.strip() for uri in value or [] if uri and uri.strip()]
        if not inputs:
            raise ValueError("no input given (--input / template parameter input)")
        return inputs

    def output(self):
        value = resolve(self._output)
        if not value or not value.strip("/"):
            raise ValueError("no output folder given (--output / template parameter output)")
        return value.strip().rstrip("/")

    def run_id(self):
        # Every worker must derive the same value, so the fallback is deterministic: the app
        # writes each run to output/<run_id>.
        return resolve(self._run_id) or self.output().rsplit("/", 1)[-1]

    def source_system(self):
        return resolve(self._source_system) or None

    def tmp_dir(self):
        return temp_folder(self.output(), self.run_id())

    def output_provider(self):
        return _Derived(self, "output")

    def tmp_dir_provider(self):
        return _Derived(self, "tmp_dir")


class _Derived(ValueProvider):
    """A ValueProvider for one of RunParams' derived values (read at run time only)."""

    def __init__(self, params, attr):
        self.params, self.attr = params, attr

    def is_accessible(self):
        return all(
            not isinstance(p, ValueProvider) or p.is_accessible()
            for p in (self.params._output, self.params._run_id)
        )

    def get(self):
        return getattr(self.params, self.attr)()

    def __str__(self):
        return f"{type(self).__name__}({self.attr})"
