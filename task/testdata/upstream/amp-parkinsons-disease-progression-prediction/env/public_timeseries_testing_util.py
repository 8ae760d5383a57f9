import pandas as pd

class MockApi:
    pass
