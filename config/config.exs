import Config

# Where discovery looks for sysfs and device nodes. Tests and the demo point
# these at fixture trees; on a device they are the real ones.
config :vintage_net_cellular,
  sysfs_root: "/sys",
  dev_root: "/dev"

if config_env() == :test do
  config :logger, level: :warning
end
