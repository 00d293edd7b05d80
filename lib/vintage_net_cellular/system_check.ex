defmodule VintageNetCellular.SystemCheck do
  @moduledoc """
  Checks that this system can run PPP, for `VintageNetCellular.check_system/1`.

  `run/1` returns `:ok` or `{:error, message}` where the message lists every
  problem found, one per line, in words a person can act on:

  * pppd is missing, or older than 2.4.9 (the first version with
    `ip-up-script`/`ip-down-script`, which the notifier needs; 2.4.8 does not
    have them). The version comes from `pppd --version`, which prints
    `pppd version 2.4.9` (on stderr up to 2.4.8, on stdout since 2.4.9);
  * the kernel has no PPP support: no `ppp` character device (major 108) in
    `/proc/devices`, no `/sys/class/ppp` or `/sys/module/ppp_generic`, and no
    `ppp_generic` module installed under `/lib/modules/<release>`; or PPP
    without the async tty line discipline (`ppp` in `/proc/tty/ldiscs`, module
    `ppp_async`). Kernel options: `CONFIG_PPP`, `CONFIG_PPP_ASYNC`;
    `CONFIG_PPP_DEFLATE` and `CONFIG_PPP_BSDCOMP` are optional;
  * `/dev/ppp` is missing and can't be made (not root, or no `mknod`), or is
    something other than a device;
  * with `data_path: :usb_net`: `ip` and `udhcpc` missing, or no USB network
    driver in the kernel (`CONFIG_USB_NET_CDCETHER`, `CONFIG_USB_NET_RNDIS_HOST`,
    `CONFIG_USB_NET_CDC_NCM`: none in `/sys/bus/usb/drivers` and none
    installed as a module);
  * every finding of level `:error` passed in `:findings` (e.g. from
    `diagnose/0`): `%{level: :error, message: "...", kernel_options: [...]}`.

  `chat` is not needed: pppd dials with this application's own dialer
  (`cellular_port dial`, see `VintageNetCellular.PPP`).

  Everything it looks at can be pointed elsewhere, for tests: `:pppd`,
  `:mknod` (names looked up in `PATH` and then `:search_dirs`, or
  paths), `:dev_ppp`, `:proc` and `:sys` (roots), `:modules` (the
  `/lib/modules` root), `:kernel_release`, `:uid`, `:min_pppd_version`.

      iex> VintageNetCellular.SystemCheck.run(
      ...>   pppd: "/nonexistent/pppd",
      ...>   proc: "/nonexistent",
      ...>   sys: "/nonexistent",
      ...>   modules: "/nonexistent",
      ...>   dev_ppp: "/nonexistent/ppp"
      ...> )
      ...> |> elem(1)
      ...> |> String.contains?("pppd was not found")
      true
  """

  alias VintageNetCellular.PPP

  @type finding :: %{
          required(:level) => atom(),
          required(:message) => String.t(),
          optional(:kernel_options) => [String.t()],
          optional(atom()) => any()
        }

  @type option ::
          {:pppd, String.t()}
          | {:mknod, String.t()}
          | {:dev_ppp, Path.t()}
          | {:proc, Path.t()}
          | {:sys, Path.t()}
          | {:modules, Path.t()}
          | {:kernel_release, String.t()}
          | {:uid, non_neg_integer()}
          | {:search_dirs, [Path.t()]}
          | {:min_pppd_version, PPP.version()}
          | {:findings, [finding()]}
          | {:data_path, :ppp | :usb_net | :auto}
          | {:ip_command, String.t()}
          | {:udhcpc_command, String.t()}

  @min_pppd_version {2, 4, 9}
  @version_timeout 5_000

  @doc "Runs every check. See the moduledoc."
  @spec run([option()]) :: :ok | {:error, String.t()}
  def run(opts \\ []) do
    case problems(opts) do
      [] ->
        :ok

      problems ->
        {:error,
         Enum.join(["vintage_net_cellular can't run PPP on this system:" | Enum.map(problems, &("  * " <> &1))], "\n")}
    end
  end

  @doc "The problems `run/1` reports, one sentence each; `[]` when all is well."
  @spec problems([option()]) :: [String.t()]
  def problems(opts \\ []) do
    opts = Map.new(opts)

    [
      check_pppd(opts),
      check_kernel(opts),
      check_dev_ppp(opts),
      check_usb_net(opts),
      check_findings(opts)
    ]
    |> List.flatten()
  end

  @doc """
  Reads pppd's version by running `pppd --version`.

  Returns `{:ok, {major, minor, patch}}` or `{:error, message}`.
  """
  @spec pppd_version(Path.t()) :: {:ok, PPP.version()} | {:error, String.t()}
  def pppd_version(pppd) do
    task = Task.async(fn -> System.cmd(pppd, ["--version"], stderr_to_stdout: true) end)

    case Task.yield(task, @version_timeout) || Task.shutdown(task, :brutal_kill) do
      {:ok, {output, _status}} ->
        case Regex.run(~r/pppd version (\d+\.\d+(?:\.\d+)?)/, output) do
          [_, text] -> PPP.parse_version(text) |> version_result(output)
          nil -> {:error, "`#{pppd} --version` did not print a version: #{inspect(String.trim(output))}"}
        end

      {:exit, reason} ->
        {:error, "`#{pppd} --version` failed: #{inspect(reason)}"}

      nil ->
        {:error, "`#{pppd} --version` did not finish in #{div(@version_timeout, 1000)} s"}
    end
  end

  defp version_result({:ok, version}, _output), do: {:ok, version}
  defp version_result(:error, output), do: {:error, "can't read pppd's version from #{inspect(output)}"}

  defp check_pppd(opts) do
    name = Map.get(opts, :pppd, "pppd")
    min = Map.get(opts, :min_pppd_version, @min_pppd_version)

    case find_executable(name, opts) do
      nil ->
        "pppd was not found (looked for #{inspect(name)}). Install pppd #{format(min)} or later " <>
          "(Buildroot/Nerves: BR2_PACKAGE_PPP=y; Debian: the ppp package)."

      path ->
        case pppd_version(path) do
          {:ok, version} when version >= min ->
            []

          {:ok, version} ->
            "pppd #{format(version)} at #{path} is too old: #{format(min)} or later is needed " <>
              "(ip-up-script and ip-down-script first appear in 2.4.9)."

          {:error, message} ->
            "can't tell which pppd #{path} is: #{message}."
        end
    end
  end

  defp check_kernel(opts) do
    proc = Map.get(opts, :proc, "/proc")
    sys = Map.get(opts, :sys, "/sys")
    modules = installed_modules(opts)

    generic? =
      file_matches?(Path.join(proc, "devices"), ~r/^\s*108\s+ppp\s*$/m) or
        File.exists?(Path.join(sys, "class/ppp")) or
        File.exists?(Path.join(sys, "module/ppp_generic")) or
        module_installed?(modules, "ppp_generic")

    async? =
      file_matches?(Path.join([proc, "tty", "ldiscs"]), ~r/^ppp\s+3\s*$/m) or
        File.exists?(Path.join(sys, "module/ppp_async")) or
        module_installed?(modules, "ppp_async")

    cond do
      not generic? ->
        "the kernel has no PPP support: #{proc}/devices lists no ppp device (major 108), " <>
          "#{sys}/class/ppp is absent and no ppp_generic module is installed. " <>
          "Enable CONFIG_PPP and CONFIG_PPP_ASYNC (CONFIG_PPP_DEFLATE and CONFIG_PPP_BSDCOMP are optional)."

      not async? ->
        "the kernel has PPP but not PPP over serial ttys: #{proc}/tty/ldiscs lists no ppp line discipline " <>
          "and no ppp_async module is installed. Enable CONFIG_PPP_ASYNC."

      true ->
        []
    end
  end

  defp check_dev_ppp(opts) do
    dev_ppp = Map.get(opts, :dev_ppp, "/dev/ppp")

    case File.stat(dev_ppp) do
      {:ok, %File.Stat{type: :device}} ->
        []

      {:ok, %File.Stat{type: type}} ->
        "#{dev_ppp} is a #{type}, not the PPP character device. Remove it so that it can be made " <>
          "with `mknod #{dev_ppp} c 108 0`."

      {:error, _} ->
        mknod_name = Map.get(opts, :mknod, "mknod")
        uid = Map.get_lazy(opts, :uid, fn -> effective_uid(Map.get(opts, :proc, "/proc")) end)

        cond do
          uid not in [0, nil] ->
            "#{dev_ppp} is missing and can't be made: this runs as uid #{uid}, and `mknod #{dev_ppp} c 108 0` " <>
              "needs root. Create it at boot, or run as root."

          find_executable(mknod_name, opts) == nil ->
            "#{dev_ppp} is missing and can't be made: mknod was not found (looked for #{inspect(mknod_name)}). " <>
              "Create it with `mknod #{dev_ppp} c 108 0` at boot, or let devtmpfs create it by loading ppp_generic."

          true ->
            []
        end
    end
  end

  # `data_path: :usb_net`: `ip` and `udhcpc` to run it, and a USB network
  # driver in the kernel (built in or loaded: /sys/bus/usb/drivers/<name>;
  # or installed as a module). `:auto` falls back to PPP, so it needs none.
  defp check_usb_net(%{data_path: :usb_net} = opts) do
    sys = Map.get(opts, :sys, "/sys")
    modules = installed_modules(opts)

    drivers = [
      {"cdc_ether", "CONFIG_USB_NET_CDCETHER"},
      {"rndis_host", "CONFIG_USB_NET_RNDIS_HOST"},
      {"cdc_ncm", "CONFIG_USB_NET_CDC_NCM"}
    ]

    driver? = fn {name, _} ->
      File.dir?(Path.join([sys, "bus/usb/drivers", name])) or module_installed?(modules, name)
    end

    tools =
      for tool <- ["ip", "udhcpc"],
          find_executable(Map.get(opts, String.to_atom(tool <> "_command"), tool), opts) == nil do
        "#{tool} was not found: data_path: :usb_net needs it (Nerves systems have busybox's; Debian: " <>
          "#{if tool == "ip", do: "iproute2", else: "udhcpc"})."
      end

    if Enum.any?(drivers, driver?),
      do: tools,
      else:
        tools ++
          [
            "the kernel has no USB network driver for data_path: :usb_net: enable " <>
              Enum.map_join(drivers, ", ", &elem(&1, 1)) <> " (the one your modem's function needs)."
          ]
  end

  defp check_usb_net(_opts), do: []

  defp check_findings(opts) do
    for %{level: :error, message: message} = finding <- Map.get(opts, :findings, []) do
      case Map.get(finding, :kernel_options, []) do
        [] -> message
        options -> "#{message} (kernel options: #{Enum.join(options, ", ")})"
      end
    end
  end

  @doc """
  The absolute path of an executable: `name` itself when it contains a `/`
  (and is an executable file), else the first match in `PATH` and then in
  `:search_dirs` (default `/usr/sbin`, `/sbin`, `/usr/bin`, `/bin`). `nil` if
  not found.

  Use it to find the `pppd` that this check found.
  """
  @spec find_executable(String.t(), [option()] | map()) :: Path.t() | nil
  def find_executable(name, opts \\ %{}) do
    opts = Map.new(opts)

    if String.contains?(name, "/") do
      if executable?(name), do: name
    else
      System.find_executable(name) ||
        opts
        |> Map.get(:search_dirs, ["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        |> Enum.map(&Path.join(&1, name))
        |> Enum.find(&executable?/1)
    end
  end

  defp executable?(path) do
    case File.stat(path) do
      {:ok, %File.Stat{type: :regular, mode: mode}} -> Bitwise.band(mode, 0o111) != 0
      _ -> false
    end
  end

  defp installed_modules(opts) do
    root = Map.get(opts, :modules, "/lib/modules")

    release =
      Map.get_lazy(opts, :kernel_release, fn ->
        case File.read(Path.join([Map.get(opts, :proc, "/proc"), "sys", "kernel", "osrelease"])) do
          {:ok, text} -> String.trim(text)
          {:error, _} -> nil
        end
      end)

    if release do
      for file <- ["modules.builtin", "modules.dep"],
          {:ok, text} <- [File.read(Path.join([root, release, file]))],
          into: "",
          do: text
    else
      ""
    end
  end

  defp module_installed?(listing, name), do: Regex.match?(~r/(^|\/)#{name}\.ko(\.[a-z]+)?(:|$)/m, listing)

  defp file_matches?(path, regex) do
    case File.read(path) do
      {:ok, text} -> Regex.match?(regex, text)
      {:error, _} -> false
    end
  end

  defp effective_uid(proc) do
    with {:ok, text} <- File.read(Path.join([proc, "self", "status"])),
         [_, euid] <- Regex.run(~r/^Uid:\s+\d+\s+(\d+)/m, text) do
      String.to_integer(euid)
    else
      _ -> nil
    end
  end

  defp format({a, b, c}), do: "#{a}.#{b}.#{c}"
end
