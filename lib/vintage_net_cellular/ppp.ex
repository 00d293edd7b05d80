defmodule VintageNetCellular.PPP do
  @moduledoc """
  Everything pppd needs, as pure functions: its arguments, the credentials
  file, the paths of the per-interface files, and the `up_cmds` that prepare
  the system.

  Every value that ends up in pppd's arguments or in the shell command pppd
  runs for `connect` is checked by type and by a strict pattern first; a bad
  value raises an `ArgumentError` that names the key.
  Credentials never appear in the arguments (they would show in `ps`): they go
  in an options file of mode 0600 (see `options_file/2` and
  `write_secret_file!/2`).

  ## How pppd talks back

  pppd runs its ip-up / ip-down scripts with a cleared environment, so the
  socket of `VintageNetCellular.PPP.Notifier` travels as pppd's `ipparam`,
  which pppd passes to every script as its 6th argument. The scripts are
  symlinks to the `cellular_port` executable (its notifier mode), one per event, so the event
  is the basename of `argv[0]`:

      <tmpdir>/ppp0.ip-up     -> priv/native/cellular_port
      <tmpdir>/ppp0.ip-down   -> priv/native/cellular_port
      <tmpdir>/ppp0.ipv6-up   -> priv/native/cellular_port     (pppd >= 2.5.0)
      <tmpdir>/ppp0.ipv6-down -> priv/native/cellular_port     (pppd >= 2.5.0)

  `up_cmds/1` creates them. `ip-up-script` and `ip-down-script` exist from
  pppd 2.4.9 (they are not in 2.4.8); `ipv6-up-script` and `ipv6-down-script`
  from 2.5.0. With an older pppd, IPv6 events go to the fixed
  `/etc/ppp/ipv6-up`, so take IPv6 addresses from the interface's `addresses`
  property instead.

  ## Dialing

  pppd's `connect` program is this application's own dialer,
  `cellular_port dial <cid>` (see `native/crates/cellular_port/src/dial.rs`):
  with the PPP tty as its stdin and stdout it sends `AT` (the only check that
  the PPP port answers), then `ATD*99***<cid>#`, and exits 0 on `CONNECT`;
  `ERROR`, `NO CARRIER`, `BUSY`, `NO DIALTONE` or no answer in time (10 s for
  `OK`, 30 s for `CONNECT`) make it exit non-zero with one line on stderr. No
  APN, user or password is in its arguments: the connection manager writes
  the PDP context over the AT port before pppd starts. It replaced Debian's
  `chat` and the chat script it read: no script to write, nothing else to
  install, and the dial is as fast as the modem answers.

  ## Routes

  pppd is never given `defaultroute` or `replacedefaultroute`: VintageNet's
  RouteManager owns the routing table and sets the route from the ip-up event.
  `nodefaultroute` is passed so that a stray `defaultroute` in a system-wide
  `/etc/ppp/options` can't fight it (vintage_net_mobile passes neither and
  relies on the options file being absent).

  ## Example

      iex> paths = VintageNetCellular.PPP.paths("/tmp/vintage_net", "ppp0")
      iex> paths.socket
      "/tmp/vintage_net/ppp0.notify"
      iex> args =
      ...>   VintageNetCellular.PPP.pppd_args(
      ...>     ifname: "ppp0",
      ...>     tty: "ttyUSB3",
      ...>     speed: 115_200,
      ...>     tmpdir: "/tmp/vintage_net",
      ...>     pppd_version: {2, 4, 9},
      ...>     cid: 1,
      ...>     dialer: "/srv/priv/native/cellular_port"
      ...>   )
      iex> Enum.take(args, 4)
      ["connect", "/srv/priv/native/cellular_port dial 1", "/dev/ttyUSB3", "115200"]
      iex> "usepeerdns" in args and "defaultroute" not in args
      true
  """

  require Logger

  @typedoc "A pppd version, as `{major, minor, patch}`."
  @type version :: {non_neg_integer(), non_neg_integer(), non_neg_integer()}

  @typedoc "The files pppd and the notifier use for one interface."
  @type paths :: %{
          options_file: Path.t(),
          socket: Path.t(),
          ip_up: Path.t(),
          ip_down: Path.t(),
          ipv6_up: Path.t(),
          ipv6_down: Path.t()
        }

  @typedoc """
  Options of `pppd_args/1`:

  * `:ifname` (required): the PPP interface pppd creates (`ifname` option);
  * `:tty` (required): the PPP tty, `"ttyUSB3"` or `"/dev/ttyUSB3"`;
  * `:tmpdir` (required): where the files of `paths/2` live;
  * `:cid` (required): the PDP context to dial, 1..99;
  * `:speed`: a standard baud rate, default 115200;
  * `:pdp_type`: `:ipv4` (default), `:ipv6` or `:ipv4v6`;
  * `:dns`: a DNS override; when non-empty pppd does not ask the peer (no `usepeerdns`);
  * `:pppd_version`: `{2, 5, 0}` or `"2.5.0"`; from 2.5.0 the IPv6 scripts are set.
    Default `{2, 4, 9}`;
  * `:credentials?`: whether `options_file` was written (adds `file <options_file>`);
  * `:dialer`: the `cellular_port` executable that dials, default `dialer_path/0`;
  * `:flow_control`: `:none` (default, `nocrtscts`) or `:hardware` (`crtscts`);
  * `:holdoff` (seconds, default 5), `:maxfail` (default 0: no limit),
    `:lcp_echo_interval` (seconds, default 30), `:lcp_echo_failure` (default 4);
  * `:debug`: add pppd's `debug`, default false.
  """
  @type pppd_opt ::
          {:ifname, String.t()}
          | {:tty, String.t()}
          | {:tmpdir, Path.t()}
          | {:speed, pos_integer()}
          | {:pdp_type, :ipv4 | :ipv6 | :ipv4v6}
          | {:dns, [:inet.ip_address()]}
          | {:pppd_version, version() | String.t()}
          | {:credentials?, boolean()}
          | {:cid, 1..99}
          | {:dialer, Path.t()}
          | {:flow_control, :none | :hardware}
          | {:holdoff, non_neg_integer()}
          | {:maxfail, non_neg_integer()}
          | {:lcp_echo_interval, non_neg_integer()}
          | {:lcp_echo_failure, non_neg_integer()}
          | {:debug, boolean()}

  @typedoc "An entry of `RawConfig.up_cmds`."
  @type up_cmd :: {:fun, module(), atom(), list()}

  # The same standard rates normalize/1 accepts.
  @speeds VintageNetCellular.Config.speeds()

  # IFNAMSIZ is 16 with the NUL.
  @ifname_re ~r/\A[A-Za-z][A-Za-z0-9_-]{0,14}\z/
  # One /dev entry, or a path below /dev (e.g. /dev/pts/5, /dev/serial/by-id/...).
  @tty_segment_re ~r/\A[A-Za-z0-9_][A-Za-z0-9_.:+-]*\z/
  # Absolute paths safe inside a /bin/sh command line and a pppd option word.
  @path_re ~r/\A(\/[A-Za-z0-9_.+:-]+)+\/?\z/
  # The longest unix socket path Linux accepts (sun_path is 108 bytes with the NUL).
  @max_socket_path 107

  @pppd_keys [
    :ifname,
    :tty,
    :tmpdir,
    :speed,
    :pdp_type,
    :dns,
    :pppd_version,
    :credentials?,
    :cid,
    :dialer,
    :flow_control,
    :holdoff,
    :maxfail,
    :lcp_echo_interval,
    :lcp_echo_failure,
    :debug
  ]

  @doc """
  The per-interface paths under `tmpdir`.

  Raises when `ifname` or `tmpdir` is unsafe, or when the socket path would be
  too long for a unix socket.

      iex> VintageNetCellular.PPP.paths("/tmp/vintage_net", "ppp1").ip_up
      "/tmp/vintage_net/ppp1.ip-up"
  """
  @spec paths(Path.t(), String.t()) :: paths()
  def paths(tmpdir, ifname) do
    ifname = validate_ifname!(ifname)
    tmpdir = tmpdir |> validate_path!(:tmpdir) |> String.trim_trailing("/")
    base = Path.join(tmpdir, ifname)

    paths = %{
      options_file: Path.join(tmpdir, "pppd_options." <> ifname),
      socket: base <> ".notify",
      ip_up: base <> ".ip-up",
      ip_down: base <> ".ip-down",
      ipv6_up: base <> ".ipv6-up",
      ipv6_down: base <> ".ipv6-down"
    }

    if byte_size(paths.socket) > @max_socket_path do
      raise ArgumentError,
            "tmpdir #{inspect(tmpdir)} is too long: the notifier socket #{inspect(paths.socket)} " <>
              "must fit in #{@max_socket_path} bytes"
    end

    paths
  end

  @doc """
  The arguments of `pppd` (the program itself is not included), for
  `MuonTrap.Daemon`. See `t:pppd_opt/0`.

  pppd passes `connect`'s value to `/bin/sh -c`, which is why the dial command
  is one argument and its path is checked against a strict pattern.
  """
  @spec pppd_args([pppd_opt()] | map()) :: [String.t()]
  def pppd_args(opts) do
    opts = opts |> Map.new() |> only!(@pppd_keys)
    ifname = validate_ifname!(fetch!(opts, :ifname))
    paths = paths(fetch!(opts, :tmpdir), ifname)
    tty = tty_path!(fetch!(opts, :tty))
    speed = validate_speed!(Map.get(opts, :speed, 115_200))
    cid = int!(fetch!(opts, :cid), :cid, 1..99)
    dialer = validate_path!(Map.get_lazy(opts, :dialer, &dialer_path/0), :dialer)
    pdp_type = Map.get(opts, :pdp_type, :ipv4)
    version = parse_version!(Map.get(opts, :pppd_version, {2, 4, 9}))
    dns = Map.get(opts, :dns, [])

    unless is_list(dns), do: raise(ArgumentError, ":dns must be a list of IP addresses, got: #{inspect(dns)}")

    [
      ["connect", "#{dialer} dial #{cid}", tty, Integer.to_string(speed)],
      ["ifname", ifname, "nodetach", "noauth", "noipdefault", "nodefaultroute"],
      flow_control_args(Map.get(opts, :flow_control, :none)),
      if(dns == [], do: ["usepeerdns"], else: []),
      ["persist", "holdoff", int_arg!(opts, :holdoff, 5, 0..3600)],
      ["maxfail", int_arg!(opts, :maxfail, 0, 0..1000)],
      ["lcp-echo-interval", int_arg!(opts, :lcp_echo_interval, 30, 0..3600)],
      ["lcp-echo-failure", int_arg!(opts, :lcp_echo_failure, 4, 0..1000)],
      pdp_args(pdp_type),
      ["ipparam", paths.socket, "ip-up-script", paths.ip_up, "ip-down-script", paths.ip_down],
      if(ipv6_scripts?(version),
        do: ["ipv6-up-script", paths.ipv6_up, "ipv6-down-script", paths.ipv6_down],
        else: []
      ),
      if(bool_opt!(opts, :credentials?), do: ["file", paths.options_file], else: []),
      if(bool_opt!(opts, :debug), do: ["debug"], else: [])
    ]
    |> List.flatten()
  end

  @doc """
  Whether this pppd version takes `ipv6-up-script` / `ipv6-down-script` (2.5.0 on).

      iex> VintageNetCellular.PPP.ipv6_scripts?({2, 4, 9})
      false
      iex> VintageNetCellular.PPP.ipv6_scripts?({2, 5, 0})
      true
  """
  @spec ipv6_scripts?(version()) :: boolean()
  def ipv6_scripts?(version), do: version >= {2, 5, 0}

  @doc """
  Parses a pppd version: a `{major, minor, patch}` tuple, or text such as
  `"2.4.9"`, `"2.5.1"` or pppd's own `"pppd version 2.5.0"`.

      iex> VintageNetCellular.PPP.parse_version("pppd version 2.4.9\\n")
      {:ok, {2, 4, 9}}
      iex> VintageNetCellular.PPP.parse_version("2.5")
      {:ok, {2, 5, 0}}
      iex> VintageNetCellular.PPP.parse_version("unknown")
      :error
  """
  @spec parse_version(version() | String.t()) :: {:ok, version()} | :error
  def parse_version({a, b, c} = v)
      when is_integer(a) and is_integer(b) and is_integer(c) and a >= 0 and b >= 0 and c >= 0,
      do: {:ok, v}

  def parse_version(text) when is_binary(text) do
    case Regex.run(~r/(?:\A|\s)(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?/, text) do
      [_, a, b] -> {:ok, {String.to_integer(a), String.to_integer(b), 0}}
      [_, a, b, c] -> {:ok, {String.to_integer(a), String.to_integer(b), String.to_integer(c)}}
      nil -> :error
    end
  end

  def parse_version(_), do: :error

  @doc """
  The contents of the pppd options file that carries the credentials.

  Each value is written as a quoted pppd word in which every byte other than
  a letter or digit is a three-digit octal escape (`\\ooo`), which pppd's
  option parser reads back byte for byte. So no quote, space, `#` or newline
  can end the word or start another option, whatever normalization let through.
  A NUL byte can't be represented and raises, as does an empty user.

      iex> VintageNetCellular.PPP.options_file("user", "p@ss")
      "user \\"user\\"\\npassword \\"p\\\\100ss\\"\\n"
  """
  @spec options_file(String.t(), String.t()) :: String.t()
  def options_file(user, password) do
    if not is_binary(user) or user == "", do: raise(ArgumentError, ":username must be a non-empty string")
    unless is_binary(password), do: raise(ArgumentError, ":password must be a string")

    "user #{pppd_word!(user, :username)}\npassword #{pppd_word!(password, :password)}\n"
  end

  # pppd's MAXWORDLEN
  @max_word 1024

  defp pppd_word!(value, key) do
    if byte_size(value) > @max_word, do: raise(ArgumentError, "#{inspect(key)} is longer than #{@max_word} bytes")

    escaped =
      for <<byte <- value>>, into: "" do
        cond do
          byte == 0 -> raise ArgumentError, "#{inspect(key)} contains a NUL byte"
          byte in ?a..?z or byte in ?A..?Z or byte in ?0..?9 -> <<byte>>
          true -> "\\" <> String.pad_leading(Integer.to_string(byte, 8), 3, "0")
        end
      end

    "\"" <> escaped <> "\""
  end

  @doc """
  Writes `contents` to `path` so that no other user can ever read it, and
  replaces `path` atomically.

  Erlang can't create a file with a given mode (and a chmod after creation
  leaves a moment in which another process can open the file and keep
  reading it). So the file is created inside a fresh directory that is made
  mode 0700 before the file exists, is set to 0600 and written there, and is
  then renamed onto `path` (same filesystem). The private directory is
  removed. Raises `File.Error` on failure.
  """
  @spec write_secret_file!(Path.t(), iodata()) :: :ok
  def write_secret_file!(path, contents) do
    dir = Path.dirname(path)
    private = Path.join(dir, ".#{Path.basename(path)}.#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    File.mkdir!(private)

    try do
      File.chmod!(private, 0o700)
      tmp = Path.join(private, "secret")

      case :file.open(tmp, [:write, :exclusive, :binary, :raw]) do
        {:ok, io} ->
          try do
            File.chmod!(tmp, 0o600)

            case :file.write(io, contents) do
              :ok -> :ok
              {:error, reason} -> raise File.Error, reason: reason, action: "write to", path: tmp
            end
          after
            :file.close(io)
          end

        {:error, reason} ->
          raise File.Error, reason: reason, action: "create", path: tmp
      end

      File.rename!(tmp, path)
      :ok
    after
      File.rm_rf(private)
    end
  end

  @doc """
  The `RawConfig.up_cmds` that prepare the system for pppd, each
  `{:fun, VintageNetCellular.PPP, fun, args}` returning `:ok`:

  1. create `/dev/ppp` (`mknod /dev/ppp c 108 0`) when it is missing;
  2. create pppd's lock directory (`/var/run/pppd/lock`);
  3. link the notifier under the script names of `paths/2` (see the moduledoc).

  Options: `:tmpdir` and `:ifname` (required), `:notifier` (default: the
  `cellular_port` in this application's priv dir), and for tests `:dev_ppp`,
  `:lock_dir` and `:mknod`.
  """
  @spec up_cmds(keyword() | map()) :: [up_cmd()]
  def up_cmds(opts) do
    opts = Map.new(opts)
    paths = paths(fetch!(opts, :tmpdir), fetch!(opts, :ifname))
    notifier = Map.get_lazy(opts, :notifier, &notifier_path/0)

    [
      {:fun, __MODULE__, :ensure_dev_ppp, [Map.get(opts, :dev_ppp, "/dev/ppp"), Map.get(opts, :mknod, "mknod")]},
      {:fun, __MODULE__, :ensure_dir, [Map.get(opts, :lock_dir, "/var/run/pppd/lock")]},
      {:fun, __MODULE__, :link_scripts, [notifier, script_links(paths)]}
    ]
  end

  @doc "The files and links to remove when the interface goes down (for `RawConfig.cleanup_files`)."
  @spec cleanup_files(paths()) :: [Path.t()]
  def cleanup_files(paths) do
    [paths.options_file, paths.socket | script_links(paths)]
  end

  @doc "The `cellular_port` executable (pppd's event notifier) in this application's priv dir."
  @spec notifier_path() :: Path.t()
  def notifier_path, do: port_program()

  @doc "The `cellular_port` executable (pppd's connect program, `dial`) in this application's priv dir."
  @spec dialer_path() :: Path.t()
  def dialer_path, do: port_program()

  defp port_program do
    :vintage_net_cellular |> :code.priv_dir() |> to_string() |> Path.join("native/cellular_port")
  end

  @doc """
  Creates the PPP character device (major 108, minor 0) at `path` with `mknod`
  when nothing is there. Always `:ok`: a failure is logged, and pppd itself
  will then say that it can't open the device (`VintageNetCellular.SystemCheck`
  explains why beforehand).
  """
  @spec ensure_dev_ppp(Path.t(), String.t()) :: :ok
  def ensure_dev_ppp(path, mknod \\ "mknod") do
    if File.exists?(path) do
      :ok
    else
      case System.find_executable(mknod) do
        nil ->
          Logger.warning("[vintage_net_cellular] #{path} is missing and #{mknod} was not found to create it")

        exe ->
          case System.cmd(exe, [path, "c", "108", "0"], stderr_to_stdout: true) do
            {_, 0} ->
              :ok

            {out, status} ->
              Logger.warning("[vintage_net_cellular] mknod #{path} c 108 0 failed (#{status}): #{String.trim(out)}")
          end
      end

      :ok
    end
  end

  @doc "Creates a directory and its parents. Always `:ok`; a failure is logged."
  @spec ensure_dir(Path.t()) :: :ok
  def ensure_dir(path) do
    case File.mkdir_p(path) do
      :ok ->
        :ok

      {:error, reason} ->
        Logger.warning("[vintage_net_cellular] can't create #{path}: #{:file.format_error(reason)}")
        :ok
    end
  end

  @doc """
  Points each link at `target`, replacing whatever was there. Returns `:ok`,
  or `{:error, message}` when a link can't be made (pppd could then never
  report the connection).
  """
  @spec link_scripts(Path.t(), [Path.t()]) :: :ok | {:error, String.t()}
  def link_scripts(target, links) do
    Enum.reduce_while(links, :ok, fn link, :ok ->
      _ = File.rm(link)

      with :ok <- File.mkdir_p(Path.dirname(link)),
           :ok <- File.ln_s(target, link) do
        {:cont, :ok}
      else
        {:error, reason} ->
          {:halt, {:error, "can't link #{link} to #{target}: #{:file.format_error(reason)}"}}
      end
    end)
  end

  defp script_links(paths), do: [paths.ip_up, paths.ip_down, paths.ipv6_up, paths.ipv6_down]

  defp pdp_args(:ipv4), do: []
  defp pdp_args(:ipv4v6), do: ["+ipv6"]
  # IPv6-only contexts have no IPv4 to negotiate; without noip pppd would keep
  # sending IPCP requests the modem rejects.
  defp pdp_args(:ipv6), do: ["+ipv6", "noip"]

  defp pdp_args(other),
    do: raise(ArgumentError, ":pdp_type must be :ipv4, :ipv6 or :ipv4v6, got: #{inspect(other)}")

  defp flow_control_args(:none), do: ["nocrtscts"]
  defp flow_control_args(:hardware), do: ["crtscts"]

  defp flow_control_args(other),
    do: raise(ArgumentError, ":flow_control must be :none or :hardware, got: #{inspect(other)}")

  # Unknown keys raise, so that a credential or an APN handed over by mistake
  # is refused instead of silently ignored. Values are not shown.
  defp only!(opts, allowed) do
    case Map.keys(opts) -- allowed do
      [] ->
        opts

      unknown ->
        raise ArgumentError,
              "unknown option(s) #{Enum.map_join(unknown, ", ", &inspect/1)}; allowed: " <>
                Enum.map_join(allowed, ", ", &inspect/1)
    end
  end

  defp fetch!(opts, key) do
    case Map.fetch(opts, key) do
      {:ok, value} -> value
      :error -> raise ArgumentError, "#{inspect(key)} is required"
    end
  end

  defp bool_opt!(opts, key) do
    case Map.get(opts, key, false) do
      value when is_boolean(value) -> value
      other -> raise ArgumentError, "#{inspect(key)} must be a boolean, got: #{inspect(other)}"
    end
  end

  defp int_arg!(opts, key, default, range), do: opts |> Map.get(key, default) |> int!(key, range) |> Integer.to_string()

  defp int!(value, key, %Range{first: first, last: last}) do
    if is_integer(value) and value >= first and value <= last do
      value
    else
      raise ArgumentError, "#{inspect(key)} must be an integer from #{first} to #{last}, got: #{inspect(value)}"
    end
  end

  defp parse_version!(value) do
    case parse_version(value) do
      {:ok, version} -> version
      :error -> raise ArgumentError, ":pppd_version must be like {2, 5, 0} or \"2.5.0\", got: #{inspect(value)}"
    end
  end

  defp validate_ifname!(ifname) when is_binary(ifname) do
    if Regex.match?(@ifname_re, ifname) do
      ifname
    else
      raise ArgumentError,
            ":ifname #{inspect(ifname)} is not a valid interface name (a letter, then up to 14 letters, digits, _ or -)"
    end
  end

  defp validate_ifname!(other), do: raise(ArgumentError, ":ifname must be a string, got: #{inspect(other)}")

  defp validate_speed!(speed) when speed in @speeds, do: speed

  defp validate_speed!(speed),
    do: raise(ArgumentError, ":speed #{inspect(speed)} is not a standard baud rate (#{Enum.join(@speeds, ", ")})")

  defp validate_path!(path, key) when is_binary(path) do
    if Regex.match?(@path_re, path) and ".." not in Path.split(path) do
      path
    else
      raise ArgumentError,
            "#{inspect(key)} #{inspect(path)} must be an absolute path of letters, digits and _ . + : - only"
    end
  end

  defp validate_path!(other, key), do: raise(ArgumentError, "#{inspect(key)} must be a path, got: #{inspect(other)}")

  @doc """
  The device path of a tty name: `"ttyUSB3"` and `"/dev/ttyUSB3"` both give
  `"/dev/ttyUSB3"`. Raises when the name has anything but letters, digits and
  `_ . : + -` in its segments, or leaves `/dev`.

      iex> VintageNetCellular.PPP.tty_path!("ttyACM0")
      "/dev/ttyACM0"
      iex> VintageNetCellular.PPP.tty_path!("/dev/pts/5")
      "/dev/pts/5"
  """
  @spec tty_path!(String.t()) :: Path.t()
  def tty_path!(tty) when is_binary(tty) do
    segments =
      case tty do
        "/dev/" <> rest -> String.split(rest, "/")
        "/" <> _ -> :bad
        rest -> String.split(rest, "/")
      end

    if segments != :bad and Enum.all?(segments, &Regex.match?(@tty_segment_re, &1)) do
      Path.join(["/dev" | segments])
    else
      raise ArgumentError, ":tty #{inspect(tty)} is not a tty name like \"ttyUSB3\" or \"/dev/ttyUSB3\""
    end
  end

  def tty_path!(other), do: raise(ArgumentError, ":tty must be a string, got: #{inspect(other)}")
end
