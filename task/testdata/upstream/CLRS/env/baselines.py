import jax

class BaselineModel:
    pass
